//! `roam admin …`: the flags and commands of the admin CLI.
use clap::{Args, Subcommand};

/// The admin CLI: manages users, groups and messages over the REST API with the app's
/// client id and secret (the `client_credentials` grant).
#[derive(Args)]
pub(crate) struct AdminArgs {
    /// The app's client id (roamd's `client_id`).
    #[arg(long, env = "ROAM_CLIENT_ID")]
    pub(crate) client_id: Option<String>,
    /// The app's client secret (roamd's `client_secret`).
    #[arg(long, env = "ROAM_CLIENT_SECRET", hide_env_values = true)]
    pub(crate) client_secret: Option<String>,
    #[command(subcommand)]
    pub(crate) command: AdminCommand,
}

#[derive(Subcommand)]
pub(crate) enum AdminCommand {
    /// Users: create, list, show, delete, set a password.
    #[command(subcommand)]
    User(UserCommand),
    /// Groups and their members.
    #[command(subcommand)]
    Group(GroupCommand),
    /// Sends a text message as the admin to a user, a group or a chat room; prints its id.
    Send {
        /// The user, group or chat room.
        to: String,
        text: String,
        /// The target is a group.
        #[arg(long, conflicts_with = "room")]
        group: bool,
        /// The target is a chat room.
        #[arg(long)]
        room: bool,
    },
    /// Lists a user's conversations (every page), newest activity first.
    Conversations {
        /// The user whose conversations to list.
        user: String,
    },
    /// Prints a page of a user's history with a peer, user or group.
    History {
        /// The user whose history to read.
        user: String,
        /// The peer user or group.
        target: String,
        /// The peer is a group.
        #[arg(long)]
        group: bool,
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
    /// Exports everything the server keeps for one user as JSON lines on stdout: the
    /// profile, each conversation (with its pin, marks and unread count), and its whole
    /// history, oldest first (docs/admin.md describes the records).
    Export {
        /// The user whose data to export.
        user: String,
    },
}

#[derive(Subcommand)]
pub(crate) enum UserCommand {
    /// Registers a user (the password is read from stdin when not given).
    Create {
        username: String,
        password: Option<String>,
        /// A display name.
        #[arg(long)]
        nickname: Option<String>,
    },
    /// Lists the users, oldest first.
    List,
    /// Shows one user.
    Show { username: String },
    /// Removes a user (their devices are logged out; groups they own are destroyed).
    Delete { username: String },
    /// Sets a user's password (read from stdin when not given); logs out their devices.
    Password {
        username: String,
        password: Option<String>,
    },
}

#[derive(Subcommand)]
pub(crate) enum GroupCommand {
    /// Creates a group and prints its id.
    Create {
        /// The group's name.
        name: String,
        /// The owner.
        #[arg(long)]
        owner: String,
        /// Members besides the owner (comma-separated).
        #[arg(long, value_name = "USER,USER..", value_delimiter = ',')]
        members: Vec<String>,
        /// Listed for everyone and open to join requests.
        #[arg(long)]
        public: bool,
        /// A description.
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Lists every group.
    List,
    /// Shows a group with its members.
    Show { id: String },
    /// Adds members.
    Add {
        id: String,
        #[arg(required = true)]
        users: Vec<String>,
    },
    /// Removes members.
    Remove {
        id: String,
        #[arg(required = true)]
        users: Vec<String>,
    },
    /// Destroys a group.
    Destroy { id: String },
}
