//! Users, tokens and the server's settings.
use async_trait::async_trait;
use roam_domain::{
    auth::{TokenHash, TokenRecord},
    store::{Committed, Events, RemovedUser, StoreError, UserStore},
    user::{NewUser, PasswordHash, User, UserId},
};

use crate::PgStore;

#[async_trait]
impl UserStore for PgStore {
    async fn insert_users(&self, users: Vec<NewUser>) -> Result<Vec<User>, StoreError> {
        todo!("insert_users")
    }

    async fn user(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        todo!("user")
    }

    async fn users_after(
        &self,
        after: Option<&UserId>,
        limit: usize,
    ) -> Result<Vec<User>, StoreError> {
        todo!("users_after")
    }

    async fn delete_user(
        &self,
        id: &UserId,
        events: Events<Option<RemovedUser>>,
    ) -> Result<Committed<Option<RemovedUser>>, StoreError> {
        todo!("delete_user")
    }

    async fn set_password(&self, id: &UserId, hash: PasswordHash) -> Result<bool, StoreError> {
        todo!("set_password")
    }

    async fn insert_token(&self, token: TokenRecord) -> Result<(), StoreError> {
        todo!("insert_token")
    }

    async fn token(&self, hash: &TokenHash) -> Result<Option<TokenRecord>, StoreError> {
        todo!("token")
    }

    async fn delete_admin_tokens(&self) -> Result<u64, StoreError> {
        todo!("delete_admin_tokens")
    }

    async fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        todo!("setting")
    }

    async fn put_setting(&self, key: &str, value: &str) -> Result<(), StoreError> {
        todo!("put_setting")
    }
}
