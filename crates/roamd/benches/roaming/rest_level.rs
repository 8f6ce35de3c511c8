//! The REST level: the HTTP requests end to end over loopback, on keep-alive connections.

use std::time::Duration;

use roam_domain::roaming::MAX_PAGE;
use serde_json::{Value, json};

use crate::{
    harness::{self, KeepAlive, request_bytes, start_in, user_token},
    measure::{Sample, alternate},
    seed::Db,
};

/// One roamd serving a seeded data dir, with its prepared requests (per [`OPS`]).
///
/// [`OPS`]: crate::measure::OPS
struct Served {
    server: harness::Running,
    requests: Vec<Vec<u8>>,
}

async fn serve(db: Db) -> Served {
    let s = db.seeded;
    let server = start_in(db.dir, |_| {}).await;
    let addr = server.addr;
    let lister_token = user_token(addr, s.lister.as_str()).await;
    let reader_token = user_token(addr, s.reader.as_str()).await;
    let list = |cursor: &str| {
        let path = format!(
            "/bench/app/sdk/user/{}/user_channels/list?limit=50&cursor={cursor}",
            s.lister
        );
        request_bytes(addr, "GET", &path, Some(&lister_token), None)
    };
    let first = json_of(KeepAlive::open(addr).await.send(&list("")).await);
    let cursor = first["data"]["cursor"].as_str().unwrap().to_owned();
    let mut requests = vec![list(""), list(&cursor)];
    let path = format!("/bench/app/users/{}/messageroaming", s.reader);
    for start in [json!(-1), json!(s.mid.0.to_string())] {
        let body = json!({
            "queue": format!("{}@easemob.com", s.talker),
            "start": start,
            "pull_number": MAX_PAGE,
            "is_positive": false,
        });
        requests.push(request_bytes(
            addr,
            "POST",
            &path,
            Some(&reader_token),
            Some(&body),
        ));
    }
    Served { server, requests }
}

fn json_of((status, body): (u16, Vec<u8>)) -> Value {
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(status, 200, "{v}");
    v
}

/// Checks a REST answer carries `want` items at `pointer`.
fn items_at(pointer: &'static str, want: usize) -> impl Fn((u16, Vec<u8>)) {
    move |r| {
        let v = json_of(r);
        let n = v.pointer(pointer).and_then(Value::as_array).map(Vec::len);
        assert_eq!(n, Some(want), "{v}");
    }
}

/// Measures the operations over REST, a roamd per database, baseline and target alternating.
/// The client runs on a thread and runtime of its own, as an outside client would: the
/// servers' runtime only serves.
pub async fn measure_rest(base: Db, big: Db, iters: usize) -> Vec<Sample> {
    let want_base = base.page_len(0);
    let want_big = [big.page_len(0), big.page_len(1)];
    let (b, g) = (serve(base).await, serve(big).await);
    let (b_addr, g_addr) = (b.server.addr, g.server.addr);
    let (b_reqs, g_reqs) = (b.requests.clone(), g.requests.clone());
    let (done, samples) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let out = rt.block_on(async move {
            let (mut b_conn, mut g_conn) =
                (KeepAlive::open(b_addr).await, KeepAlive::open(g_addr).await);
            let mut out = Vec::new();
            for (op, g_req) in g_reqs.iter().enumerate() {
                // The baseline of both list pages is the small user's only page.
                let b_req = &b_reqs[if op < 2 { 0 } else { op }];
                let (check_base, check_big) = if op < 2 {
                    let p = "/data/channel_infos";
                    (items_at(p, want_base), items_at(p, want_big[op]))
                } else {
                    let p = "/data/msgs";
                    (items_at(p, MAX_PAGE), items_at(p, MAX_PAGE))
                };
                let (b_conn, g_conn) = (&mut b_conn, &mut g_conn);
                out.push(
                    alternate(
                        iters,
                        async || b_conn.send(b_req).await,
                        check_base,
                        async || g_conn.send(g_req).await,
                        check_big,
                    )
                    .await,
                );
            }
            out
        });
        let _ = done.send(out);
    });
    let out = samples.await.expect("the REST client thread");
    for s in [b, g] {
        let _ = s.server.stop.send(());
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    out
}
