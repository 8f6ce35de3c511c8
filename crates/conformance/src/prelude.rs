//! The one place that names the domain's storage traits and types, for the suite and for an
//! engine's own tests (`use roam_conformance::prelude::*`). When the store is split into
//! traits by concern, or a path moves, only this file changes.
pub use roam_domain::{
    auth::{AdminCredential, Principal, Token, TokenRecord},
    conversation::Target,
    device::{Device, Resource},
    fanout::{Fanout, KickReason},
    group::{GroupId, GroupKind, GroupSettings, NewGroup},
    id::MessageId,
    message::{MessageKind, NewMessage, StoredMessage},
    roaming::{
        ConversationEvent, Direction, HistoryPage, HistoryQuery, ListFilter, ListQuery, Mark,
        PageSize, Removal,
    },
    service::{Policy, Roam, RoamingError},
    store::{
        Committed, DeliveryStore, Events, GroupStore, PendingQueue, RemovedUser, RoamingStore,
        Store, StoreError, UserStore, no_events,
    },
    user::{NewUser, Password, User, UserId, entity_uuid},
};
