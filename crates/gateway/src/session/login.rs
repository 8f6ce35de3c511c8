//! PROVISION: the login. The device names its user (the guid JID) and resource and gives a
//! token; the answer carries the resource and the token's expiry, or the refusal the SDK shows,
//! after which the connection closes.
use roam_domain::{auth::Principal, device::Resource, service::AuthError, user::UserId};
use roam_protocol::{
    msync,
    pb::{Jid, Provision, status::ErrorCode},
};

use super::{Next, Online, Session};

/// The SDK turns this text into its "invalid token" error.
const BAD_LOGIN: &str = "Sorry, token or password does not match login info";

impl Session {
    /// Logs the device in: the token must be the named user's, and the user must have a free
    /// device slot. The token is in `auth` (newer SDKs) or in the PROVISION itself.
    pub(super) async fn provision(
        &mut self,
        guid: Option<Jid>,
        auth: Option<String>,
        provision: Provision,
    ) -> (Vec<Vec<u8>>, Next) {
        let fail = |code: ErrorCode, reason: &str| {
            (
                vec![msync::provision_reply(
                    msync::status(code, Some(reason)),
                    None,
                    None,
                )],
                Next::Close,
            )
        };
        let token = auth
            .as_deref()
            .or(provision.auth_token.as_deref())
            .and_then(token_of);
        let user = guid
            .as_ref()
            .and_then(|g| g.name.as_deref())
            .and_then(|n| UserId::parse(n).ok());
        let resource = provision
            .resource
            .as_deref()
            .or(guid.as_ref().and_then(|g| g.client_resource.as_deref()))
            .and_then(|r| Resource::parse(r).ok());
        let (Some(token), Some(user), Some(resource)) = (token, user, resource) else {
            return fail(ErrorCode::Fail, BAD_LOGIN);
        };
        let expires = match self.gw.roam.authenticate(&token).await {
            Ok((Principal::User(u), expires)) if u == user => expires,
            Ok(_) | Err(AuthError::Unknown) => return fail(ErrorCode::Fail, BAD_LOGIN),
            Err(AuthError::Expired) => return fail(ErrorCode::Fail, "Sorry, token expired"),
            Err(AuthError::UserGone) => return fail(ErrorCode::Fail, "Sorry, user not found"),
            Err(AuthError::Store(e)) => {
                tracing::error!(error = %e, "login failed on storage");
                return fail(ErrorCode::Fail, "Sorry, internal server error");
            }
        };
        let Ok(registration) = self
            .gw
            .hub
            .register(&user, &resource, self.gw.limits.max_devices)
        else {
            return fail(ErrorCode::TooManyDevices, "Sorry, too many devices");
        };
        let device = match self.gw.roam.connect(&user, &resource).await {
            Ok(d) => d,
            Err(e) => {
                tracing::error!(error = %e, "login failed on storage");
                return fail(ErrorCode::Fail, "Sorry, internal server error");
            }
        };
        tracing::debug!(%user, %resource, "device logged in");
        self.online = Some(Online {
            device,
            registration,
            token_expires_ms: expires,
            send_rate: self.gw.limits.send_rate_per_connection.limiter(),
        });
        (
            vec![msync::provision_reply(
                msync::ok(),
                Some(resource.as_str()),
                Some(expires),
            )],
            Next::Continue,
        )
    }
}

/// The token inside `"$t$<token>"` or `{"token":"$t$<token>"}`, the two forms SDKs send.
fn token_of(auth: &str) -> Option<String> {
    let raw = if auth.trim_start().starts_with('{') {
        serde_json::from_str::<serde_json::Value>(auth)
            .ok()?
            .get("token")?
            .as_str()?
            .to_owned()
    } else {
        auth.to_owned()
    };
    let token = raw.strip_prefix("$t$").unwrap_or(&raw);
    (!token.is_empty()).then(|| token.to_owned())
}

#[cfg(test)]
mod tests {
    use super::token_of;

    #[test]
    fn tokens_are_read_in_both_sdk_forms() {
        assert_eq!(token_of("$t$abc").as_deref(), Some("abc"));
        assert_eq!(token_of(r#"{"token":"$t$abc"}"#).as_deref(), Some("abc"));
        assert_eq!(token_of("$t$"), None);
        assert_eq!(token_of("{bad json"), None);
    }
}
