//! Losing NATS and getting it back, on a private `nats-server` this test starts and stops (the
//! test is skipped, with a note, where that binary is not on the PATH).
#![allow(clippy::unwrap_used, reason = "tests")]

use std::{
    process::{Child, Command, Stdio},
    time::Duration,
};

use roam_cluster::{Cluster, Options, Status};
use roam_domain::{conversation::Target, device::Resource, fanout::Fanout, user::UserId};
use roam_gateway::{Hub, hub::Push};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(port: u16) -> Option<Server> {
    let child = Command::new("nats-server")
        .args(["-a", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    Some(Server(child))
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

async fn eventually(what: &str, limit: Duration, check: impl Fn() -> bool) {
    let until = std::time::Instant::now() + limit;
    while std::time::Instant::now() < until {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("never happened: {what}");
}

#[tokio::test]
async fn a_node_serves_its_own_devices_without_nats_and_resyncs_them_when_it_is_back() {
    let port = free_port();
    let Some(server) = start(port) else {
        eprintln!("skipped: no nats-server on the PATH");
        return;
    };
    let url = format!("nats://127.0.0.1:{port}");
    let options = Options {
        heartbeat: Duration::from_millis(100),
        ..Options::default()
    };
    let mut connected = None;
    for _ in 0..100 {
        let hub = Hub::new("org#app");
        if let Ok(c) =
            Cluster::connect_with(&url, "roamtest.reconnect", 1, hub.clone(), options).await
        {
            connected = Some((hub, c));
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (hub, cluster) = connected.expect("the private nats-server answers");
    let alice = UserId::parse("alice").unwrap();
    let bob = UserId::parse("bob").unwrap();
    let session = hub
        .register(&alice, &Resource::parse("r1").unwrap(), 10)
        .unwrap();

    drop(server);
    eventually("the loss is seen", Duration::from_secs(10), || {
        cluster.status() == Status::Disconnected
    })
    .await;
    // Local deliveries go on.
    cluster.notify(&alice, &Target::User(bob.clone()), None);
    assert_eq!(
        session.mailbox.take(),
        Some(Push::Notices(vec![Target::User(bob)]))
    );

    let _server = start(port).unwrap();
    eventually("the return is seen", Duration::from_secs(20), || {
        cluster.status() == Status::Connected
    })
    .await;
    let push = tokio::time::timeout(Duration::from_secs(5), session.mailbox.next())
        .await
        .unwrap();
    assert_eq!(push, Push::Resync, "the device is told to look again");
}
