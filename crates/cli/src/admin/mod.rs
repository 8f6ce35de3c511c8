//! `roam admin …`: users, groups, messages as the admin, a user's conversations and
//! history, and the export of one user's data. Thin over the SDK's [`Admin`] client.
use std::io::BufRead as _;

use anyhow::{Context, bail};
use roam_sdk::{Admin, ChatType, ConversationQuery, Direction, HistoryQuery, NewGroup};

use crate::output::{Output, date_time, table};

pub(crate) mod args;
mod export;

use args::{AdminArgs, AdminCommand, GroupCommand, UserCommand};

/// Takes the admin token and runs the command.
pub(crate) async fn run(
    server: &str,
    app_key: &str,
    args: AdminArgs,
    out: &Output,
) -> anyhow::Result<()> {
    let id = args
        .client_id
        .context("give the app's client id: --client-id or ROAM_CLIENT_ID")?;
    let secret = args
        .client_secret
        .context("give the app's client secret: --client-secret or ROAM_CLIENT_SECRET")?;
    let admin = Admin::open(server, app_key, &id, &secret)
        .await
        .with_context(|| format!("logging in to {server} as the admin"))?;
    match args.command {
        AdminCommand::User(c) => user(&admin, c, out).await,
        AdminCommand::Group(c) => group(&admin, c, out).await,
        AdminCommand::Send {
            to,
            text,
            group,
            room,
        } => {
            let chat_type = match (group, room) {
                (true, _) => ChatType::Group,
                (_, true) => ChatType::ChatRoom,
                _ => ChatType::Single,
            };
            let id = admin
                .send_text(chat_type, &to, &text)
                .await
                .with_context(|| format!("sending to {to}"))?;
            out.value(&serde_json::json!({ "id": id.to_string() }), || {
                id.to_string()
            })
        }
        AdminCommand::Conversations { user } => {
            let client = admin.as_user(&user).await?;
            let mut query = ConversationQuery {
                page_size: roam_sdk::MAX_PAGE_SIZE,
                ..Default::default()
            };
            let mut pages = Vec::new();
            loop {
                let page = client
                    .get_server_conversations(&query)
                    .await
                    .with_context(|| format!("listing the conversations of {user}"))?;
                query.cursor.clone_from(&page.cursor);
                pages.push(page);
                if query.cursor.is_none() {
                    return out.conversations(&pages);
                }
            }
        }
        AdminCommand::History {
            user,
            target,
            group,
            down,
            page_size,
            cursor,
        } => {
            let client = admin.as_user(&user).await?;
            let chat_type = if group {
                ChatType::Group
            } else {
                ChatType::Single
            };
            let mut query = HistoryQuery::new(chat_type, &target)
                .page_size(page_size)
                .direction(if down { Direction::Down } else { Direction::Up });
            query.cursor = cursor;
            let page = client
                .get_history_messages(&query)
                .await
                .with_context(|| format!("reading the history of {user} with {target}"))?;
            out.history(&page)
        }
        AdminCommand::Export { user } => export::export(&admin, &user).await,
    }
}

async fn user(admin: &Admin, command: UserCommand, out: &Output) -> anyhow::Result<()> {
    match command {
        UserCommand::Create {
            username,
            password,
            nickname,
        } => {
            let password = password_or_stdin(password)?;
            let user = admin
                .create_user(&username, &password, nickname.as_deref())
                .await
                .with_context(|| format!("creating user {username}"))?;
            out.value(&user, || format!("created user {}", user.username))
        }
        UserCommand::List => {
            let users = admin.users().await.context("listing the users")?;
            if out.json() {
                for u in &users {
                    out.value(u, String::new)?;
                }
                return Ok(());
            }
            let rows = users
                .iter()
                .map(|u| {
                    vec![
                        u.username.clone(),
                        u.nickname.clone().unwrap_or_default(),
                        date_time(u.created),
                    ]
                })
                .collect();
            table(&["USER", "NICKNAME", "CREATED"], rows);
            Ok(())
        }
        UserCommand::Show { username } => {
            let u = admin
                .user(&username)
                .await
                .with_context(|| format!("reading user {username}"))?;
            out.value(&u, || {
                format!(
                    "{} (nickname {:?}), created {}",
                    u.username,
                    u.nickname.as_deref().unwrap_or(""),
                    date_time(u.created)
                )
            })
        }
        UserCommand::Delete { username } => {
            admin
                .delete_user(&username)
                .await
                .with_context(|| format!("deleting user {username}"))?;
            out.done(format!("deleted user {username}"))
        }
        UserCommand::Password { username, password } => {
            let password = password_or_stdin(password)?;
            admin
                .set_password(&username, &password)
                .await
                .with_context(|| format!("setting the password of {username}"))?;
            out.done(format!("set the password of {username}"))
        }
    }
}

async fn group(admin: &Admin, command: GroupCommand, out: &Output) -> anyhow::Result<()> {
    match command {
        GroupCommand::Create {
            name,
            owner,
            members,
            public,
            description,
        } => {
            let members: Vec<&str> = members.iter().map(String::as_str).collect();
            let mut new = NewGroup::new(&name, &owner).members(&members);
            new.public = public;
            new.description = description;
            let id = admin
                .create_group(&new)
                .await
                .with_context(|| format!("creating group {name}"))?;
            out.value(&serde_json::json!({ "id": id }), || id.clone())
        }
        GroupCommand::List => {
            let groups = admin.groups().await.context("listing the groups")?;
            if out.json() {
                for g in &groups {
                    out.value(g, String::new)?;
                }
                return Ok(());
            }
            let rows = groups
                .iter()
                .map(|g| {
                    vec![
                        g.id.clone(),
                        g.name.clone(),
                        g.owner.clone(),
                        g.members.to_string(),
                        if g.public { "yes" } else { "" }.to_owned(),
                    ]
                })
                .collect();
            table(&["ID", "NAME", "OWNER", "MEMBERS", "PUBLIC"], rows);
            Ok(())
        }
        GroupCommand::Show { id } => {
            let g = admin
                .group(&id)
                .await
                .with_context(|| format!("reading group {id}"))?;
            if out.json() {
                return out.value(&g, String::new);
            }
            println!(
                "{} {:?}, owner {}, created {}",
                g.id,
                g.name,
                g.owner,
                date_time(g.created)
            );
            let rows = g
                .members
                .iter()
                .map(|m| vec![m.user.clone(), m.role.clone(), date_time(m.joined)])
                .collect();
            table(&["MEMBER", "ROLE", "JOINED"], rows);
            Ok(())
        }
        GroupCommand::Add { id, users } => {
            let users: Vec<&str> = users.iter().map(String::as_str).collect();
            let added = admin
                .add_members(&id, &users)
                .await
                .with_context(|| format!("adding members to group {id}"))?;
            out.done(format!("added to group {id}: {}", added.join(", ")))
        }
        GroupCommand::Remove { id, users } => {
            let wanted: Vec<&str> = users.iter().map(String::as_str).collect();
            let removed = admin
                .remove_members(&id, &wanted)
                .await
                .with_context(|| format!("removing members from group {id}"))?;
            let kept: Vec<&str> = wanted
                .iter()
                .copied()
                .filter(|u| !removed.iter().any(|r| r.eq_ignore_ascii_case(u)))
                .collect();
            if !kept.is_empty() {
                bail!("not removed from group {id}: {}", kept.join(", "));
            }
            out.done(format!("removed from group {id}: {}", removed.join(", ")))
        }
        GroupCommand::Destroy { id } => {
            admin
                .destroy_group(&id)
                .await
                .with_context(|| format!("destroying group {id}"))?;
            out.done(format!("destroyed group {id}"))
        }
    }
}

/// The password given, or one line read from stdin (without its line end).
fn password_or_stdin(given: Option<String>) -> anyhow::Result<String> {
    if let Some(p) = given {
        return Ok(p);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from stdin")?;
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    if password.is_empty() {
        bail!("give the password as an argument or on stdin");
    }
    Ok(password)
}
