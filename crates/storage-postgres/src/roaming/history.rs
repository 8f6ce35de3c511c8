//! History: a page of one conversation as the user sees it.
use roam_domain::{
    roaming::{Direction, HistoryPage, HistoryQuery},
    store::StoreError,
    user::UserId,
};
use tokio_postgres::types::ToSql;

use super::side;
use crate::rows::{MESSAGE_COLUMNS, Tx, engine, id_column, message_from_row, sql_bound, sql_count};

/// A page of history; `None` when the user has no side of the conversation (for a group or
/// chat room: not a member). Runs in one snapshot.
///
/// The statement is built from the query's filters (which ones are set); its text is the
/// statement cache's key, so each shape is prepared once (the content types are one array
/// parameter, however many).
pub(crate) async fn history(
    tx: &Tx<'_>,
    user: &UserId,
    q: &HistoryQuery,
) -> Result<Option<HistoryPage>, StoreError> {
    let Some(side) = side(tx, user, &q.target).await? else {
        return Ok(None);
    };
    let newest_first = q.direction == Direction::NewestFirst;
    let user_id = user.as_str();
    let mut args: Vec<Box<dyn ToSql + Sync + Send>> = vec![
        Box::new(side.conv),
        Box::new(side.start),
        Box::new(user_id.to_owned()),
    ];
    let mut sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages m WHERE conv_id = $1 AND seq > $2 AND kind = 0 \
         AND NOT EXISTS (SELECT 1 FROM deleted_messages d WHERE d.user_id = $3 AND d.conv_id = m.conv_id AND d.seq = m.seq)"
    );
    if let Some(from) = q.from {
        let seq: Option<i64> = match id_column(from) {
            Some(id) => {
                let st = tx
                    .prepare_cached("SELECT seq FROM messages WHERE id = $1 AND conv_id = $2")
                    .await
                    .map_err(engine)?;
                tx.query_opt(&st, &[&id, &side.conv])
                    .await
                    .map_err(engine)?
                    .map(|r| r.try_get(0))
                    .transpose()
                    .map_err(engine)?
            }
            None => None,
        };
        let seq = seq.ok_or(StoreError::MessageNotFound(from))?;
        args.push(Box::new(seq));
        sql += &format!(
            " AND seq {} ${}",
            if newest_first { "<" } else { ">" },
            args.len()
        );
    }
    if !q.content_types.is_empty() {
        args.push(Box::new(q.content_types.clone()));
        sql += &format!(" AND content_type = ANY(${})", args.len());
    }
    if let Some(t) = q.start_ms {
        args.push(Box::new(sql_bound(t)));
        sql += &format!(" AND ts_ms >= ${}", args.len());
    }
    if let Some(t) = q.end_ms {
        args.push(Box::new(sql_bound(t)));
        sql += &format!(" AND ts_ms <= ${}", args.len());
    }
    if let Some(u) = &q.sender {
        args.push(Box::new(u.as_str().to_owned()));
        sql += &format!(" AND from_user = ${}", args.len());
    }
    let limit = q.limit.get();
    args.push(Box::new(sql_count(limit + 1)));
    sql += &format!(
        " ORDER BY seq {} LIMIT ${}",
        if newest_first { "DESC" } else { "ASC" },
        args.len()
    );
    let st = tx.prepare_cached(&sql).await.map_err(engine)?;
    let params: Vec<&(dyn ToSql + Sync)> =
        args.iter().map(|a| &**a as &(dyn ToSql + Sync)).collect();
    let mut messages = tx
        .query(&st, &params)
        .await
        .map_err(engine)?
        .iter()
        .map(message_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    let is_last = messages.len() <= limit;
    messages.truncate(limit);
    Ok(Some(HistoryPage { messages, is_last }))
}
