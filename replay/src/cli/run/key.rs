//! The submitter's key: a private key file (mode 0600), an encrypted JSON keystore with
//! its password file (mode 0600), or `SEQREC_KEY`. No message ever repeats a key or a
//! password.

use std::path::Path;

use effects::eth::SigningKey;

use super::RunArgs;

pub(super) fn read_key(args: &RunArgs) -> Result<SigningKey, String> {
    match (&args.key_file, &args.keystore, std::env::var("SEQREC_KEY")) {
        (Some(_), Some(_), _) => {
            Err("--key-file and --keystore: give one of them (both name the signing key)".to_owned())
        }
        (Some(path), None, _) => {
            file_private(path, "key file")?;
            let text =
                std::fs::read_to_string(path).map_err(|error| format!("{}: cannot read: {error}", path.display()))?;
            SigningKey::parse(&text).map_err(|message| format!("{}: {message}", path.display()))
        }
        (None, Some(keystore), _) => {
            let Some(password_file) = &args.password_file else {
                return Err("--keystore: needs --password-file (a file holding the keystore's password)".to_owned());
            };
            file_private(password_file, "password file")?;
            let password = std::fs::read_to_string(password_file)
                .map_err(|error| format!("{}: cannot read: {error}", password_file.display()))?;
            // A password file written by `echo` ends with a newline that is not part of it.
            let password = password.strip_suffix('\n').unwrap_or(&password);
            let password = password.strip_suffix('\r').unwrap_or(password);
            SigningKey::from_keystore(keystore, password)
        }
        (None, None, Ok(key)) => SigningKey::parse(&key).map_err(|message| format!("SEQREC_KEY: {message}")),
        (None, None, Err(_)) => {
            Err("no signing key: give --key-file, --keystore with --password-file, or set SEQREC_KEY".to_owned())
        }
    }
}

/// A key file others can read is refused: the key signs for the whole deployment.
fn file_private(path: &Path, what: &str) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(path)
        .map_err(|error| format!("{}: cannot read: {error}", path.display()))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(format!(
            "{}: the {what} is readable or writable by group or others (mode {:o}); run `chmod 600 {}`",
            path.display(),
            mode & 0o777,
            path.display()
        ));
    }
    Ok(())
}
