//! The submitter's key: a private key file (mode 0600), an encrypted JSON keystore with
//! its password file (mode 0600), or `SEQREC_KEY`. No message ever repeats a key or a
//! password: a path that looks like a key is refused without being shown, a keystore's
//! parser message is never passed on, and every start-up message and `--print-config`
//! goes through [`redact_keys`] (issue 18, item 8).

use std::path::Path;

use effects::eth::SigningKey;

use super::RunArgs;

/// What replaces a run of 64 or more hex digits in a message.
const REDACTED: &str = "<64+ hex digits not shown: they may be a private key>";

/// `text` with every run of 64 or more hex digits (a 32-byte private key, with or without
/// `0x`, in any case) replaced by [`REDACTED`]. Start-up messages and `--print-config`
/// hold no hash or other long hex value of their own, so nothing useful is lost.
#[must_use]
pub fn redact_keys(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() >= 64 {
            out.push_str(REDACTED);
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if c.is_ascii_hexdigit() {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// Whether `text` holds a run of 64 or more hex digits: a private key, perhaps.
fn looks_like_key(text: &str) -> bool {
    redact_keys(text) != text
}

/// A path setting that holds a key instead of a path is refused without showing it.
fn check_path(path: &Path, flag: &str) -> Result<(), String> {
    if looks_like_key(&path.to_string_lossy()) {
        return Err(format!(
            "{flag}: the value given looks like a private key, not a file path (not shown); write the key to a \
             file (mode 0600) and give that file's path"
        ));
    }
    Ok(())
}

pub(super) fn read_key(args: &RunArgs) -> Result<SigningKey, String> {
    for (path, flag) in
        [(&args.key_file, "--key-file"), (&args.keystore, "--keystore"), (&args.password_file, "--password-file")]
    {
        if let Some(path) = path {
            check_path(path, flag)?;
        }
    }
    match (&args.key_file, &args.keystore, std::env::var("SEQREC_KEY")) {
        (Some(_), Some(_), _) => {
            Err("--key-file and --keystore: give one of them (both name the signing key)".to_owned())
        }
        (Some(path), None, _) => {
            file_private(path, "key file")?;
            let text =
                std::fs::read_to_string(path).map_err(|error| format!("{}: cannot read: {error}", path.display()))?;
            SigningKey::parse(&text).map_err(|message| {
                let hint = if text.trim_start().starts_with('{') {
                    "; it holds JSON: an encrypted keystore is given with --keystore and --password-file"
                } else {
                    ""
                };
                format!("{}: {message}{hint}", path.display())
            })
        }
        (None, Some(keystore), _) => {
            let Some(password_file) = &args.password_file else {
                return Err("--keystore: needs --password-file (a file holding the keystore's password)".to_owned());
            };
            check_keystore(keystore)?;
            file_private(password_file, "password file")?;
            let password = std::fs::read_to_string(password_file)
                .map_err(|error| format!("{}: cannot read: {error}", password_file.display()))?;
            // A password file written by `echo` ends with a newline that is not part of it.
            let password = password.strip_suffix('\n').unwrap_or(&password);
            let password = password.strip_suffix('\r').unwrap_or(password);
            SigningKey::from_keystore(keystore, password).map_err(|message| redact_keys(&message))
        }
        (None, None, Ok(key)) => SigningKey::parse(&key).map_err(|message| format!("SEQREC_KEY: {message}")),
        (None, None, Err(_)) => {
            Err("no signing key: give --key-file, --keystore with --password-file, or set SEQREC_KEY".to_owned())
        }
    }
}

/// A keystore must be a JSON object; anything else is refused here, in words of our own:
/// a JSON parser's message repeats what it read, and a key file's text (a bare key, or
/// one quoted as a JSON string) given as the keystore is a common mix-up.
fn check_keystore(path: &Path) -> Result<(), String> {
    let shown = path.display();
    let text = std::fs::read_to_string(path).map_err(|error| format!("{shown}: cannot read: {error}"))?;
    let unquoted = text.trim().trim_matches('"');
    if looks_like_key(&text) && SigningKey::parse(unquoted).is_ok() {
        return Err(format!(
            "{shown}: holds a bare private key (not shown), not an encrypted keystore: give that file with \
             --key-file instead (mode 0600), or encrypt the key into a keystore (`cast wallet import`)"
        ));
    }
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(serde_json::Value::Object(_)) => Ok(()),
        Ok(other) => {
            let kind = match other {
                serde_json::Value::Null => "null",
                serde_json::Value::Bool(_) => "a boolean",
                serde_json::Value::Number(_) => "a number",
                serde_json::Value::String(_) => "a string",
                serde_json::Value::Array(_) => "an array",
                serde_json::Value::Object(_) => "an object",
            };
            Err(format!(
                "{shown}: not an encrypted keystore: it holds {kind} (not shown), where a keystore is a JSON object \
                 (Web3 Secret Storage v3, as geth, clef and `cast wallet` write it)"
            ))
        }
        Err(error) => Err(format!(
            "{shown}: not an encrypted keystore: not JSON (line {}, column {}); a keystore is a JSON object \
             (Web3 Secret Storage v3, as geth, clef and `cast wallet` write it)",
            error.line(),
            error.column()
        )),
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

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcab7e8a2f42ff2e80";

    #[test]
    fn a_run_of_64_hex_digits_is_redacted_in_any_case_and_shorter_ones_are_kept() {
        let upper = KEY.to_uppercase();
        for text in [format!("0x{KEY}: cannot read"), upper.clone(), format!("\"0X{upper}1\" x")] {
            let redacted = redact_keys(&text);
            assert!(!redacted.to_lowercase().contains(&KEY[..40]), "{redacted}");
            assert!(redacted.contains(REDACTED), "{redacted}");
        }
        let address = "inbox 0x2222222222222222222222222222222222222222 at block 12";
        assert_eq!(redact_keys(address), address);
        assert_eq!(redact_keys(""), "");
    }
}
