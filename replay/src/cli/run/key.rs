//! The submitter's key: a private key file (mode 0600) or `SEQREC_KEY`.

use std::path::Path;

use effects::eth::SigningKey;

use super::RunArgs;

pub(super) fn read_key(args: &RunArgs) -> Result<SigningKey, String> {
    let (text, source) = match (&args.key_file, std::env::var("SEQREC_KEY")) {
        (Some(path), _) => {
            key_file_private(path)?;
            let text =
                std::fs::read_to_string(path).map_err(|error| format!("{}: cannot read: {error}", path.display()))?;
            (text, path.display().to_string())
        }
        (None, Ok(key)) => (key, "SEQREC_KEY".to_owned()),
        (None, Err(_)) => return Err("--key-file: no key: give --key-file or set SEQREC_KEY".to_owned()),
    };
    SigningKey::parse(&text).map_err(|message| format!("{source}: {message}"))
}

/// A key file others can read is refused: the key signs for the whole deployment.
fn key_file_private(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(path)
        .map_err(|error| format!("{}: cannot read: {error}", path.display()))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(format!(
            "{}: the key file is readable or writable by group or others (mode {:o}); run `chmod 600 {}`",
            path.display(),
            mode & 0o777,
            path.display()
        ));
    }
    Ok(())
}
