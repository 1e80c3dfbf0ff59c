use super::*;

#[test]
fn users_uids_and_groups() {
    let file = TokenFile::parse(
        "31ada4fd-adec-460c-809a-9e56ceb75269,admin,1,\"system:masters,dev\"\n\
         token2,kubelet-bootstrap,10001,system:bootstrappers\n\
         token3,alice,alice-uid\n",
    )
    .unwrap();
    assert_eq!(file.len(), 3);
    assert!(file.warnings().is_empty());

    let admin = file
        .authenticate("31ada4fd-adec-460c-809a-9e56ceb75269")
        .unwrap();
    assert_eq!(admin.name, "admin");
    assert_eq!(admin.uid, "1");
    assert_eq!(admin.groups, vec!["system:masters", "dev", AUTHENTICATED]);
    assert!(admin.extra.is_empty());

    let kubelet = file.authenticate("token2").unwrap();
    assert_eq!(kubelet.groups, vec!["system:bootstrappers", AUTHENTICATED]);
    let alice = file.authenticate("token3").unwrap();
    assert_eq!(alice.groups, vec![AUTHENTICATED]);
}

#[test]
fn unknown_tokens() {
    let file = TokenFile::parse("secret,bob,2\n").unwrap();
    for guess in [
        "", "secre", "secret ", " secret", "SECRET", "secrets", "bob",
    ] {
        assert_eq!(file.authenticate(guess), None, "{guess:?}");
    }
    assert!(file.authenticate("secret").is_some());
}

#[test]
fn blank_lines_extra_columns_and_spaces() {
    let file = TokenFile::parse(
        "\n\
         t1,u1,1,g1,ignored,columns\n\
         \r\n\
         t2, u2 ,2,\" spaced group\"\r\n",
    )
    .unwrap();
    assert_eq!(file.len(), 2);
    assert_eq!(
        file.authenticate("t1").unwrap().groups,
        vec!["g1", AUTHENTICATED]
    );
    // Like Go's csv reader as upstream sets it up, spaces are kept.
    let u2 = file.authenticate("t2").unwrap();
    assert_eq!(u2.name, " u2 ");
    assert_eq!(u2.groups, vec![" spaced group", AUTHENTICATED]);
}

#[test]
fn empty_groups_column_and_authenticated_listed() {
    let file = TokenFile::parse("t1,u1,1,\nt2,u2,2,\",,system:authenticated,a\"\n").unwrap();
    assert_eq!(file.authenticate("t1").unwrap().groups, vec![AUTHENTICATED]);
    assert_eq!(
        file.authenticate("t2").unwrap().groups,
        vec![AUTHENTICATED, "a"]
    );
}

#[test]
fn too_few_columns_names_the_line() {
    let err = TokenFile::parse("t1,u1,1\n\nt2,u2\n").unwrap_err();
    assert_eq!(err, TokenFileError::TooFewColumns { line: 3, found: 2 });
    assert_eq!(
        err.to_string(),
        "line 3: token file must have at least 3 columns (token, user name, user uid), found 2"
    );
    assert!(matches!(
        TokenFile::parse("justatoken"),
        Err(TokenFileError::TooFewColumns { line: 1, found: 1 })
    ));
    // A line of spaces is a record of one column.
    assert!(matches!(
        TokenFile::parse("t,u,1\n   \n"),
        Err(TokenFileError::TooFewColumns { line: 2, found: 1 })
    ));
}

#[test]
fn csv_errors() {
    let err = TokenFile::parse("t1,u\"1,1\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "parse error on line 1, column 5: bare \" in non-quoted-field"
    );
    assert!(matches!(
        TokenFile::parse("t1,u1,1,\"g1,g2\n"),
        Err(TokenFileError::Csv(CsvError {
            kind: CsvErrorKind::Quote,
            ..
        }))
    ));
}

#[test]
fn empty_token_is_skipped_with_a_warning() {
    let file = TokenFile::parse(",nobody,0\nt,u,1\n").unwrap();
    assert_eq!(file.len(), 1);
    assert_eq!(
        file.warnings(),
        &[TokenFileWarning::EmptyToken { record: 1, line: 1 }]
    );
    assert_eq!(file.authenticate(""), None);
    assert_eq!(
        file.warnings()[0].to_string(),
        "empty token has been found in token file, record number '1' (line 1)"
    );
}

#[test]
fn duplicate_token_later_record_wins() {
    let file = TokenFile::parse("t,first,1\nother,x,2\nt,second,3,g\n").unwrap();
    assert_eq!(file.len(), 2);
    let user = file.authenticate("t").unwrap();
    assert_eq!(user.name, "second");
    assert_eq!(user.uid, "3");
    assert_eq!(
        file.warnings(),
        &[TokenFileWarning::DuplicateToken { record: 3, line: 3 }]
    );
}

#[test]
fn empty_file() {
    let file = TokenFile::parse("").unwrap();
    assert!(file.is_empty());
    assert_eq!(file.authenticate("anything"), None);
}

#[test]
fn debug_output_hides_tokens() {
    let file = TokenFile::parse("supersecret,alice,1\n").unwrap();
    let printed = format!("{file:?}");
    assert!(printed.contains("alice"));
    assert!(!printed.contains("supersecret"));
}
