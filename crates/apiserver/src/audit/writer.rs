//! The audit log backend (upstream's `--audit-log-path`): events as JSON
//! lines in a file (or on stdout for `-`), written by a background thread
//! so that logging never blocks a request. Events wait in a bounded
//! queue; when it is full they are dropped and counted.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::{mpsc, oneshot};

use super::error::AuditError;
use super::event::AuditEvent;
use super::rotation::{RotatingFile, RotationLimits};

/// How many events the writer takes in one batch before flushing.
const MAX_BATCH: usize = 1000;

/// Options of the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditLogOptions {
    /// Rotate the file when it reaches this many megabytes
    /// (`--audit-log-maxsize`; 0: never).
    pub max_size_mb: u64,
    /// Keep this many rotated files (`--audit-log-maxbackup`; 0: all).
    pub max_backups: usize,
    /// Remove rotated files older than this many days
    /// (`--audit-log-maxage`; 0: never).
    pub max_age_days: u64,
    /// Events that may wait for the writer before new ones are dropped.
    pub buffer: usize,
}

impl Default for AuditLogOptions {
    fn default() -> AuditLogOptions {
        AuditLogOptions {
            max_size_mb: 0,
            max_backups: 0,
            max_age_days: 0,
            buffer: 10_000,
        }
    }
}

enum Message {
    Line(Vec<u8>),
    Close(oneshot::Sender<()>),
}

enum Sink {
    Stdout,
    File(RotatingFile),
}

impl Sink {
    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Sink::Stdout => io::stdout().lock().write_all(bytes),
            Sink::File(f) => f.write(bytes),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::Stdout => io::stdout().lock().flush(),
            Sink::File(f) => f.flush(),
        }
    }
}

/// The audit log: [`AuditLog::log`] queues an event and returns at once.
#[derive(Debug)]
pub struct AuditLog {
    tx: mpsc::Sender<Message>,
    dropped: Arc<AtomicU64>,
}

impl AuditLog {
    /// Opens (appending) or creates the log at `path`; `-` is stdout.
    pub fn open(path: &Path) -> Result<AuditLog, AuditError> {
        AuditLog::open_with(path, AuditLogOptions::default())
    }

    /// [`AuditLog::open`] with rotation and queue options.
    pub fn open_with(path: &Path, options: AuditLogOptions) -> Result<AuditLog, AuditError> {
        let sink = if path == Path::new("-") {
            Sink::Stdout
        } else {
            let limits = RotationLimits {
                max_bytes: options.max_size_mb.saturating_mul(1024 * 1024),
                max_backups: options.max_backups,
                max_age_days: options.max_age_days,
            };
            let file = RotatingFile::open(path, limits).map_err(|source| AuditError::Open {
                path: path.to_path_buf(),
                source,
            })?;
            Sink::File(file)
        };
        let (tx, rx) = mpsc::channel(options.buffer.max(1));
        let dropped = Arc::new(AtomicU64::new(0));
        let writer_dropped = dropped.clone();
        let name = PathBuf::from(path);
        std::thread::Builder::new()
            .name("audit-log".to_string())
            .spawn(move || write_loop(rx, sink, &writer_dropped, &name))
            .map_err(|source| AuditError::Open {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(AuditLog { tx, dropped })
    }

    /// Queues `event` as one JSON line; drops (and counts) it when the
    /// queue is full or the log is closed. Never blocks.
    pub fn log(&self, event: &AuditEvent) {
        let mut line = match serde_json::to_vec(event) {
            Ok(line) => line,
            Err(_) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
                return;
            }
        };
        line.push(b'\n');
        if self.tx.try_send(Message::Line(line)).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// How many events never reached the log (queue full, log closed, or
    /// a failed write).
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Writes and flushes everything queued, then stops the writer; later
    /// events are dropped.
    pub async fn close(&self) {
        let (reply, done) = oneshot::channel();
        if self.tx.send(Message::Close(reply)).await.is_ok() {
            let _ = done.await;
        }
    }
}

/// The writer thread: takes batches, writes them, flushes after each.
fn write_loop(mut rx: mpsc::Receiver<Message>, mut sink: Sink, dropped: &AtomicU64, path: &Path) {
    let mut failing = false;
    let mut write = |sink: &mut Sink, bytes: &[u8]| match sink.write(bytes) {
        Ok(()) => failing = false,
        Err(e) => {
            dropped.fetch_add(1, Ordering::Relaxed);
            if !failing {
                tracing::warn!(path = %path.display(), error = %e, "cannot write the audit log");
            }
            failing = true;
        }
    };
    while let Some(first) = rx.blocking_recv() {
        let mut closing = None;
        let mut next = Some(first);
        let mut taken = 0;
        while let Some(message) = next.take() {
            match message {
                Message::Line(bytes) => write(&mut sink, &bytes),
                Message::Close(reply) => {
                    rx.close();
                    closing = Some(reply);
                }
            }
            taken += 1;
            if taken < MAX_BATCH || closing.is_some() {
                next = rx.try_recv().ok();
            }
        }
        if let Err(e) = sink.flush() {
            tracing::warn!(path = %path.display(), error = %e, "cannot flush the audit log");
        }
        if let Some(reply) = closing {
            let _ = reply.send(());
            return;
        }
    }
    let _ = sink.flush();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{AuditPolicy, AuditRequest, RequestAudit, Stage};
    use chrono::Utc;
    use ironclad_auth::attributes::Attributes;
    use ironclad_auth::user::UserInfo;

    fn event(i: usize) -> AuditEvent {
        let attrs = Attributes::non_resource(UserInfo::authenticated("alice", &[]), "get", "/x");
        let id = format!("id-{i}");
        RequestAudit::new(
            &AuditPolicy::default_metadata(),
            AuditRequest {
                attributes: &attrs,
                audit_id: &id,
                request_uri: "/x",
                source_ips: vec![],
                user_agent: "",
                received: Utc::now(),
            },
        )
        .unwrap()
        .event(Stage::ResponseComplete, Utc::now())
        .unwrap()
    }

    #[tokio::test]
    async fn writes_one_line_per_event_and_close_flushes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        std::fs::write(&path, "earlier line\n").unwrap();
        let log = AuditLog::open(&path).unwrap();
        for i in 0..250 {
            log.log(&event(i));
        }
        log.close().await;
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 251);
        assert_eq!(lines[0], "earlier line");
        for (i, line) in lines[1..].iter().enumerate() {
            let e: AuditEvent = serde_json::from_str(line).unwrap();
            assert_eq!(e.audit_id, format!("id-{i}"));
        }
        assert_eq!(log.dropped(), 0);
        // After close, events are dropped and counted, and close is idempotent.
        log.log(&event(999));
        assert_eq!(log.dropped(), 1);
        log.close().await;
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 251);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let fresh = dir.path().join("new").join("audit.log");
            let log = AuditLog::open(&fresh).unwrap();
            log.close().await;
            let mode = std::fs::metadata(&fresh).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_full_queue_drops_and_counts_without_blocking() {
        // A queue nobody drains: the third and later events are dropped.
        let (tx, _rx) = mpsc::channel(2);
        let log = AuditLog {
            tx,
            dropped: Arc::new(AtomicU64::new(0)),
        };
        for i in 0..5 {
            log.log(&event(i));
        }
        assert_eq!(log.dropped(), 3);
    }

    #[test]
    fn open_fails_clearly() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, "").unwrap();
        let err = AuditLog::open(&blocker.join("audit.log"))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("cannot open audit log"), "{err}");
    }

    #[tokio::test]
    async fn dropping_the_log_flushes_what_was_queued() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        let log = AuditLog::open_with(
            &path,
            AuditLogOptions {
                max_size_mb: 1,
                max_backups: 1,
                ..AuditLogOptions::default()
            },
        )
        .unwrap();
        log.log(&event(1));
        log.close().await;
        drop(log);
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 1);
    }
}
