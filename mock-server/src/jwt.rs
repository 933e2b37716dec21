//! The `exp` claim of a JWT-shaped API key, for `serve --key-expiry`.
//!
//! Truora's API keys are JWTs (HS256) whose `exp` Truora enforces; its SDK handles the 403 an
//! expired key gets. The mock reads the claim only: it cannot verify the signature, because
//! that needs Truora's secret, and a stand-in that refused keys it cannot check would refuse
//! every real key. So a key's `exp` is trusted as written, which is what a test of expiry
//! handling needs (mint a key with any `exp`, sign it with anything).

/// Why a JWT-shaped key could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    #[error("its payload (the part between the two dots) is not base64url")]
    Base64,
    #[error("its payload is not a JSON object with a numeric `exp`: {0}")]
    Claims(String),
}

/// The expiry of `key` in seconds since the Unix epoch: `Ok(None)` when the key is not shaped
/// like a JWT (three dot-separated parts) or has no `exp`.
pub fn expiry(key: &str) -> Result<Option<f64>, JwtError> {
    let mut parts = key.split('.');
    let (Some(_header), Some(payload), Some(_signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Ok(None);
    };
    // RFC 7515 writes base64url without padding; tolerate padding some encoders add.
    let bytes = data_encoding::BASE64URL_NOPAD
        .decode(payload.trim_end_matches('=').as_bytes())
        .map_err(|_| JwtError::Base64)?;
    let claims: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&bytes).map_err(|e| JwtError::Claims(e.to_string()))?;
    // `exp` is a NumericDate: seconds since the Unix epoch, fractions allowed (RFC 7519).
    match claims.get("exp") {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(v) => v
            .as_f64()
            .map(Some)
            .ok_or_else(|| JwtError::Claims(format!("`exp` is {v}, not a number"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key(claims: &str) -> String {
        let b64 = |s: &str| data_encoding::BASE64URL_NOPAD.encode(s.as_bytes());
        format!(
            "{}.{}.signature",
            b64(r#"{"alg":"HS256","typ":"JWT"}"#),
            b64(claims)
        )
    }

    #[test]
    fn reads_exp_and_ignores_other_shapes() {
        assert_eq!(
            expiry(&key(r#"{"exp":1700000000,"grant":"x"}"#)),
            Ok(Some(1.7e9))
        );
        assert_eq!(expiry(&key(r#"{"iat":1}"#)), Ok(None));
        assert_eq!(expiry("plain-key"), Ok(None));
        assert_eq!(expiry("a.b"), Ok(None));
        assert_eq!(expiry("a.b.c.d"), Ok(None));
        assert_eq!(expiry("a.!!.c"), Err(JwtError::Base64));
        assert!(matches!(expiry(&key("[1]")), Err(JwtError::Claims(_))));
        assert!(matches!(
            expiry(&key(r#"{"exp":"soon"}"#)),
            Err(JwtError::Claims(_))
        ));
    }

    proptest! {
        #[test]
        fn never_panics(s in any::<String>()) {
            let _ = expiry(&s);
        }

        #[test]
        fn round_trips_any_whole_exp(exp in 0u32..u32::MAX) {
            prop_assert_eq!(expiry(&key(&format!(r#"{{"exp":{exp}}}"#))), Ok(Some(f64::from(exp))));
        }
    }
}
