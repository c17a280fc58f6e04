//! The signed-in operator of a request, as resolved from the session cookie by the HTTP layer.

use crate::backend::audit::Actor;
use crate::domain::access::{Function, Role};
use crate::domain::DataScope;

/// The session cookie: a random token, HttpOnly, Secure, SameSite=Strict, no expiry date (it ends with
/// the browser or, earlier, on the server).
/// The `__Host-` prefix makes browsers accept the cookie only from this secure origin, with `Path=/`
/// and no `Domain`: a neighbouring host cannot set or shadow it.
pub const SESSION_COOKIE: &str = "__Host-vpos_session";

/// `Set-Cookie` value that gives the browser the session token.
pub fn session_cookie(token: &str) -> String {
    format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; Secure; SameSite=Strict")
}

/// `Set-Cookie` value that makes the browser forget the session token.
pub fn clear_session_cookie() -> String {
    format!("{SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict")
}

/// Every cookie of a request as one `Cookie` header value. Over HTTP/2 browsers send each cookie in a
/// header field of its own, so reading only the first would miss the others.
pub fn all_cookies(headers: &http::HeaderMap) -> String {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join("; ")
}

/// The session token in a `Cookie` header, if any.
pub fn token_from_cookies(header: &str) -> Option<&str> {
    header.split(';').find_map(|c| {
        let (name, value) = c.trim().split_once('=')?;
        (name == SESSION_COOKIE && !value.is_empty()).then_some(value)
    })
}

/// An open session and what its operator may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// SHA-256 of the cookie's token: the session's key in the database.
    pub token_hash: String,
    pub operator_id: i64,
    pub merchant_id: i64,
    pub login_name: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    pub functions: Vec<Function>,
    pub scope: DataScope,
    /// The terminal groups of an operator scoped to groups.
    pub group_ids: Vec<i64>,
    pub must_change_password: bool,
    pub cert_fingerprint: String,
    pub remote_addr: String,
    /// The merchant's time zone: dates in filters and on screen are the merchant's.
    pub tz: chrono_tz::Tz,
    /// The merchant's settlement currency: every amount an operator types is in it.
    pub currency: crate::domain::Currency,
}

impl Session {
    pub fn may(&self, function: Function) -> bool {
        self.functions.contains(&function)
    }

    pub fn actor(&self) -> Actor {
        Actor {
            merchant_id: Some(self.merchant_id),
            operator_id: Some(self.operator_id),
            login_name: Some(self.login_name.clone()),
            cert_fingerprint: Some(self.cert_fingerprint.clone()),
            remote_addr: Some(self.remote_addr.clone()),
        }
    }
}

/// What the HTTP layer found for a request; put into the request's extensions for server functions.
#[derive(Debug, Clone, Default)]
pub struct CurrentSession(pub Option<Session>);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_read_from_among_other_cookies() {
        assert_eq!(
            token_from_cookies("vpos_lang=en; __Host-vpos_session=abc123; x=y"),
            Some("abc123")
        );
        assert_eq!(token_from_cookies("__Host-vpos_session="), None);
        assert_eq!(token_from_cookies("vpos_session=abc123"), None);
        assert_eq!(token_from_cookies("__Host-vpos_sessionx=1"), None);
        assert_eq!(token_from_cookies(""), None);
    }

    #[test]
    fn cookies_split_over_several_header_fields_are_all_read() {
        let mut headers = http::HeaderMap::new();
        headers.append(
            http::header::COOKIE,
            "__Host-vpos_session=abc".parse().expect("value"),
        );
        headers.append(http::header::COOKIE, "vpos_lang=en".parse().expect("value"));
        let all = all_cookies(&headers);
        assert_eq!(token_from_cookies(&all), Some("abc"));
        assert!(all.contains("vpos_lang=en"));
    }

    #[test]
    fn the_cookie_is_http_only_secure_and_strict() {
        let c = session_cookie("t");
        for attr in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
            assert!(c.contains(attr), "{c} lacks {attr}");
        }
        assert!(clear_session_cookie().contains("Max-Age=0"));
    }
}
