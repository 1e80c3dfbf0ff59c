//! The audit log file, rotated by size as upstream's log backend
//! (lumberjack) rotates it: when a write would pass the limit the file is
//! renamed to `<name>-<UTC time 2006-01-02T15-04-05.000><ext>` next to it,
//! a new file is started, and the oldest backups beyond the count (or
//! older than the age) are removed.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDateTime, Utc};

const BACKUP_TIME_FORMAT: &str = "%Y-%m-%dT%H-%M-%S%.3f";

/// Limits on the log file and its backups; zero means no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RotationLimits {
    /// Rotate before the file would pass this many bytes.
    pub max_bytes: u64,
    /// Keep at most this many backups.
    pub max_backups: usize,
    /// Remove backups older than this many days.
    pub max_age_days: u64,
}

/// An append-only log file that rotates itself.
pub(crate) struct RotatingFile {
    path: PathBuf,
    file: BufWriter<File>,
    size: u64,
    limits: RotationLimits,
}

fn open_append(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

impl RotatingFile {
    /// Opens (appending) or creates the file and its directory.
    pub fn open(path: &Path, limits: RotationLimits) -> io::Result<RotatingFile> {
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)?;
        }
        let file = open_append(path)?;
        let size = file.metadata()?.len();
        Ok(RotatingFile {
            path: path.to_path_buf(),
            file: BufWriter::new(file),
            size,
            limits,
        })
    }

    /// Appends `bytes`, rotating first when they would pass the size limit.
    pub fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        let len = bytes.len() as u64;
        if self.limits.max_bytes > 0 && self.size > 0 && self.size + len > self.limits.max_bytes {
            self.rotate(Utc::now())?;
        }
        self.file.write_all(bytes)?;
        self.size += len;
        Ok(())
    }

    /// Flushes what is buffered to the file.
    pub fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }

    fn name_parts(&self) -> (PathBuf, String, String) {
        let dir = self
            .path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let ext = match name.rfind('.') {
            Some(i) if i > 0 => name[i..].to_string(),
            _ => String::new(),
        };
        let stem = name[..name.len() - ext.len()].to_string();
        (dir, stem, ext)
    }

    fn rotate(&mut self, now: DateTime<Utc>) -> io::Result<()> {
        self.file.flush()?;
        let (dir, stem, ext) = self.name_parts();
        let backup = dir.join(format!("{stem}-{}{ext}", now.format(BACKUP_TIME_FORMAT)));
        std::fs::rename(&self.path, backup)?;
        self.file = BufWriter::new(open_append(&self.path)?);
        self.size = 0;
        self.remove_old_backups(now)
    }

    fn remove_old_backups(&self, now: DateTime<Utc>) -> io::Result<()> {
        if self.limits.max_backups == 0 && self.limits.max_age_days == 0 {
            return Ok(());
        }
        let (dir, stem, ext) = self.name_parts();
        let listing = if dir.as_os_str().is_empty() {
            std::fs::read_dir(".")?
        } else {
            std::fs::read_dir(&dir)?
        };
        let prefix = format!("{stem}-");
        let mut backups: Vec<(DateTime<Utc>, PathBuf)> = Vec::new();
        for entry in listing.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(time) = name
                .strip_prefix(&prefix)
                .and_then(|rest| rest.strip_suffix(ext.as_str()))
                .and_then(|t| NaiveDateTime::parse_from_str(t, BACKUP_TIME_FORMAT).ok())
            else {
                continue;
            };
            backups.push((time.and_utc(), entry.path()));
        }
        backups.sort_by_key(|b| std::cmp::Reverse(b.0));
        let max_age = i64::try_from(self.limits.max_age_days)
            .ok()
            .and_then(chrono::TimeDelta::try_days)
            .unwrap_or(chrono::TimeDelta::MAX);
        for (i, (time, path)) in backups.iter().enumerate() {
            let too_many = self.limits.max_backups > 0 && i >= self.limits.max_backups;
            let too_old = self.limits.max_age_days > 0 && now - *time > max_age;
            if too_many || too_old {
                std::fs::remove_file(path)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn rotates_by_size_and_keeps_the_newest_backups() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("logs").join("audit.log");
        let limits = RotationLimits {
            max_bytes: 10,
            max_backups: 2,
            max_age_days: 0,
        };
        let mut f = RotatingFile::open(&path, limits).unwrap();
        f.write(b"12345\n").unwrap();
        f.write(b"abc\n").unwrap(); // 10 bytes: still fits
        assert_eq!(names(&dir.path().join("logs")), ["audit.log"]);
        // Rotations at distinct (fake) times, as they would happen.
        let t0 = Utc::now();
        for i in 0..4 {
            f.write(format!("line{i}\n").as_bytes()).unwrap();
            f.flush().unwrap();
            f.rotate(t0 + chrono::Duration::seconds(i)).unwrap();
        }
        let logs = names(&dir.path().join("logs"));
        assert_eq!(logs.len(), 3, "{logs:?}");
        assert!(logs.contains(&"audit.log".to_string()));
        let newest = format!(
            "audit-{}.log",
            (t0 + chrono::Duration::seconds(3)).format(BACKUP_TIME_FORMAT)
        );
        assert!(logs.contains(&newest), "{logs:?}");
        assert_eq!(
            std::fs::read_to_string(dir.path().join("logs").join(newest)).unwrap(),
            "line3\n"
        );
        // A write that would pass the limit goes to a new file.
        f.write(b"0123456789\n").unwrap();
        f.write(b"x\n").unwrap();
        f.flush().unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "x\n");
    }

    #[test]
    fn removes_backups_past_their_age_and_reopens_appending() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit");
        let old = dir.path().join("audit-2000-01-01T00-00-00.000");
        std::fs::write(&old, "old\n").unwrap();
        std::fs::write(dir.path().join("unrelated.log"), "keep\n").unwrap();
        let limits = RotationLimits {
            max_bytes: 0,
            max_backups: 0,
            max_age_days: 30,
        };
        let mut f = RotatingFile::open(&path, limits).unwrap();
        f.write(b"a\n").unwrap();
        f.rotate(Utc::now()).unwrap();
        assert!(!old.exists());
        assert!(dir.path().join("unrelated.log").exists());
        assert_eq!(names(dir.path()).len(), 3);
        drop(f);
        let mut again = RotatingFile::open(&path, limits).unwrap();
        again.write(b"b\n").unwrap();
        again.write(b"c\n").unwrap();
        again.flush().unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "b\nc\n");
        assert_eq!(again.size, 4);
    }
}
