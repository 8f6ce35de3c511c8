//! The conversation list: all of a user's conversations, the pinned ones, the marked ones.
use std::{collections::HashMap, sync::Arc};

use axum::{Json, extract::State};
use roam_domain::roaming::{ListCursor, ListFilter, ListQuery, Mark};
use roam_protocol::rest::roaming::{ListData, ListResponse};

use super::{input, page_size};
use crate::{
    Rest,
    error::ApiError,
    extract::{Acting, Params},
};

/// Default page size of the conversation list (the SDK always sends one).
const DEFAULT_LIST_PAGE: i64 = 20;

/// # `GET /{org}/{app}/sdk/user/{u}/user_channels/list`
///
/// `limit` (1..50, default 20), `cursor` (empty = first page), `is_top=true` for the pinned
/// list, `needEmptySession=true` to include conversations whose messages were all deleted.
/// Also the operator's view: `GET …/user/{u}/user_channels` and `…/users/{u}/user_channels`
/// with the admin token.
pub async fn list(
    State(rest): State<Arc<Rest>>,
    acting: Acting,
    params: Params,
) -> Result<Json<ListResponse>, ApiError> {
    let filter = if params.get("is_top").is_some_and(|v| v == "true") {
        ListFilter::Pinned
    } else {
        ListFilter::All {
            include_empty: params.get("needEmptySession").is_some_and(|v| v == "true"),
        }
    };
    list_with(&rest, &acting, &params, filter).await
}

/// # `GET /{org}/{app}/sdk/user/{u}/user_channels/mark/search?mark=mark_N`
pub async fn search_marked(
    State(rest): State<Arc<Rest>>,
    acting: Acting,
    params: Params,
) -> Result<Json<ListResponse>, ApiError> {
    let mark = Mark::parse(params.get("mark").map_or("", String::as_str)).map_err(input)?;
    list_with(&rest, &acting, &params, ListFilter::Marked(mark)).await
}

async fn list_with(
    rest: &Rest,
    acting: &Acting,
    params: &HashMap<String, String>,
    filter: ListFilter,
) -> Result<Json<ListResponse>, ApiError> {
    let query = ListQuery {
        filter,
        limit: page_size(params.get("limit"), DEFAULT_LIST_PAGE)?,
        after: ListCursor::parse(params.get("cursor").map_or("", String::as_str)).map_err(input)?,
    };
    let page = rest
        .roam
        .conversations(&acting.caller, &acting.user, &query)
        .await?;
    Ok(Json(ListResponse {
        data: ListData {
            cursor: page.next.map(|c| c.encode()).unwrap_or_default(),
            channel_infos: page
                .items
                .iter()
                .map(roam_wire::rest::channel_info)
                .collect(),
        },
        timestamp: roam_domain::now_ms(),
        duration: 0,
    }))
}
