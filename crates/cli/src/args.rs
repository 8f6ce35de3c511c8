//! The command line: global options, the commands and their flags (clap derive).
use clap::{Args, Parser, Subcommand};
use roam_sdk::ChatType;

#[derive(Parser)]
#[command(
    name = "roam",
    version,
    about = "A terminal client for Roam and Easemob IM"
)]
pub(crate) struct Cli {
    /// The server: `host:port` (plain HTTP), or an `http(s)://` or `ws(s)://` URL.
    #[arg(
        long,
        env = "ROAM_SERVER",
        default_value = "http://127.0.0.1:5280",
        global = true
    )]
    pub(crate) server: String,
    /// The app, as `org#app`.
    #[arg(long, env = "ROAM_APP_KEY", default_value = "roam#demo", global = true)]
    pub(crate) app_key: String,
    /// The user to log in as.
    #[arg(long, env = "ROAM_USER", global = true)]
    pub(crate) user: Option<String>,
    /// The user's password (a token takes precedence when both are given).
    #[arg(long, env = "ROAM_PASSWORD", hide_env_values = true, global = true)]
    pub(crate) password: Option<String>,
    /// A token taken earlier, instead of a password.
    #[arg(long, env = "ROAM_TOKEN", hide_env_values = true, global = true)]
    pub(crate) token: Option<String>,
    /// This device's name (default: a fresh one per run).
    #[arg(long, global = true)]
    pub(crate) resource: Option<String>,
    /// One JSON object per line instead of readable text, for scripts.
    #[arg(long, global = true)]
    pub(crate) json: bool,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Sends a text message and prints the server's id for it.
    Send {
        /// The user, group or chat room to send to.
        to: String,
        /// The text.
        text: String,
        #[command(flatten)]
        kind: Kind,
    },
    /// Prints incoming messages and events until Ctrl-C.
    Tail {
        /// Join this chat room first, to receive its messages (repeatable).
        #[arg(long, value_name = "ROOM")]
        join: Vec<String>,
    },
    /// Lists the conversations, newest activity first.
    Conversations {
        /// Only the pinned ones.
        #[arg(long, conflicts_with = "mark")]
        pinned: bool,
        /// Only those carrying this mark (0 to 19).
        #[arg(long, value_name = "N")]
        mark: Option<u8>,
        /// Conversations per page (1 to 50).
        #[arg(long, value_name = "N", default_value_t = 20)]
        page_size: u32,
        /// Start at this page (the cursor a previous page printed).
        #[arg(long, value_name = "CURSOR", conflicts_with = "all_pages")]
        cursor: Option<String>,
        /// Fetch every page, not only the first.
        #[arg(long)]
        all_pages: bool,
    },
    /// Prints a page of a conversation's history: newest first, or oldest first with --down.
    History {
        /// The peer user, group or chat room.
        target: String,
        #[command(flatten)]
        kind: Kind,
        /// Oldest first, towards newer messages.
        #[arg(long)]
        down: bool,
        /// Messages per page (1 to 50).
        #[arg(long, value_name = "N", default_value_t = 20)]
        page_size: u32,
        /// Continue after this message id (the cursor a previous page printed).
        #[arg(long, value_name = "ID")]
        cursor: Option<u64>,
    },
    /// Pins a conversation (or unpins it with --off).
    Pin {
        /// The peer user or group.
        target: String,
        #[command(flatten)]
        kind: GroupFlag,
        /// Unpin instead.
        #[arg(long)]
        off: bool,
    },
    /// Puts a mark (0 to 19) on a conversation (or takes it off with --off).
    Mark {
        /// The peer user or group.
        target: String,
        /// The mark, 0 to 19.
        mark: u8,
        #[command(flatten)]
        kind: GroupFlag,
        /// Take the mark off instead.
        #[arg(long)]
        off: bool,
    },
    /// Takes a conversation off the list, on every device of this user.
    Delete {
        /// The peer user or group.
        target: String,
        #[command(flatten)]
        kind: GroupFlag,
        /// Also hide its history up to now.
        #[arg(long)]
        with_history: bool,
    },
    /// Deletes messages of a conversation for this user only (others keep them).
    DeleteMessages {
        /// The peer user or group.
        target: String,
        #[command(flatten)]
        kind: GroupFlag,
        #[command(flatten)]
        which: Which,
    },
    /// Marks a conversation read (a conversation read ack) on every device of this user.
    Read {
        /// The peer user or group.
        target: String,
        #[command(flatten)]
        kind: GroupFlag,
    },
    /// The admin CLI: users, groups, messages as the admin, any user's conversations and
    /// history, and the export of one user's data (needs the app's client id and secret).
    Admin(crate::admin::args::AdminArgs),
}

/// A single chat, a group or a chat room.
#[derive(Args)]
pub(crate) struct Kind {
    /// The target is a group.
    #[arg(long, conflicts_with = "room")]
    pub(crate) group: bool,
    /// The target is a chat room.
    #[arg(long)]
    pub(crate) room: bool,
}

impl Kind {
    pub(crate) fn chat_type(&self) -> ChatType {
        match (self.group, self.room) {
            (true, _) => ChatType::Group,
            (_, true) => ChatType::ChatRoom,
            _ => ChatType::Single,
        }
    }
}

/// A single chat or a group (conversation operations do not tell chat rooms apart).
#[derive(Args)]
pub(crate) struct GroupFlag {
    /// The target is a group.
    #[arg(long)]
    pub(crate) group: bool,
}

impl GroupFlag {
    pub(crate) fn chat_type(&self) -> ChatType {
        if self.group {
            ChatType::Group
        } else {
            ChatType::Single
        }
    }
}

/// Which messages to delete: by id or by time.
#[derive(Args)]
#[group(required = true, multiple = false)]
pub(crate) struct Which {
    /// These message ids (1 to 50, comma-separated). Ids that match no message of the
    /// conversation are reported and make the exit code 1.
    #[arg(long, value_name = "ID,ID..", value_delimiter = ',')]
    pub(crate) ids: Vec<u64>,
    /// Every message at or before this time (ms since the Unix epoch).
    #[arg(long, value_name = "MS")]
    pub(crate) before: Option<u64>,
}
