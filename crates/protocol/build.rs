//! Compiles `proto/easemob.proto` with protox (pure Rust, no `protoc` needed) into prost types.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto/easemob.proto");
    let fds = protox::compile(["proto/easemob.proto"], ["proto"])?;
    prost_build::Config::new().bytes(["."]).compile_fds(fds)?;
    Ok(())
}
