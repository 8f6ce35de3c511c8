//! Domain functions on every send and pull (`cargo bench -p roam-domain`): message ids (the
//! generator runs under a lock per send), user id parsing (per frame and per REST call), and
//! conversation keys (the storage form of a conversation's other side).
use roam_domain::{
    conversation::Target,
    id::{IdGenerator, MessageId},
    user::UserId,
};

fn main() {
    divan::main();
}

#[divan::bench]
fn message_id_compose() -> MessageId {
    MessageId::compose(
        divan::black_box(1_700_000_000_000),
        divan::black_box(3),
        divan::black_box(7),
    )
}

#[divan::bench]
fn id_generator_next(b: divan::Bencher) {
    let g = IdGenerator::new(1);
    b.bench(|| g.next());
}

#[divan::bench]
fn user_id_parse() -> UserId {
    UserId::parse(divan::black_box("Alice_Smith-1990")).expect("valid user id")
}

#[divan::bench]
fn conversation_key_encode(b: divan::Bencher) {
    let t = Target::User(UserId::parse("bob").expect("valid user id"));
    b.bench(|| divan::black_box(&t).encode());
}

#[divan::bench]
fn conversation_key_decode() -> Option<Target> {
    Target::decode(divan::black_box("g:913606723028123648"))
}
