//! A throw-away `redis-server` (Debian's package) for the replay-store tests: started on
//! 127.0.0.1 on a free port with a temporary directory, stopped when dropped.
//!
//! Missing binary: with `CI=true` the test fails (a missing service is never a skip in CI);
//! otherwise it prints exactly what to install and the caller skips.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::server_process::wait_until_ready;

/// A running `redis-server`, killed on drop.
#[derive(Debug)]
pub struct RedisServer {
    child: Option<Child>,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

/// Where `redis-server` is, if installed (`$PATH`, then Debian's `/usr/bin`).
fn binary() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("redis-server"))
            .find(|candidate| candidate.is_file())
    });
    on_path.or_else(|| {
        let debian = PathBuf::from("/usr/bin/redis-server");
        debian.is_file().then_some(debian)
    })
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

impl RedisServer {
    /// Starts a server, or returns `None` (after printing what to install) when
    /// `redis-server` is missing outside CI.
    ///
    /// # Panics
    ///
    /// `redis-server` is missing and `CI=true`, or it does not answer `PING` within 10 s.
    pub fn start() -> Option<RedisServer> {
        let Some(binary) = binary() else {
            let help = "redis-server is not installed: run `sudo scripts/install-test-deps.sh` \
                        (or `sudo apt-get install -y redis-server`)";
            assert!(
                !in_ci(),
                "{help}; CI=true, so this is a failure, not a skip"
            );
            eprintln!("SKIPPED: {help}");
            return None;
        };
        // A port taken between our probe and the server's bind: try another, a few times.
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free loopback port")
                .port();
            let dir = tempfile::tempdir().expect("a temporary directory");
            let child = Command::new(&binary)
                .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
                .arg("--dir")
                .arg(dir.path())
                .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn redis-server");
            let mut server = RedisServer {
                child: Some(child),
                addr: SocketAddr::from(([127, 0, 0, 1], port)),
                _dir: dir,
            };
            if server.wait_ready(Duration::from_secs(10)) {
                return Some(server);
            }
            server.stop();
        }
        panic!("redis-server did not answer PING on a fresh port, five times");
    }

    /// `redis://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        format!("redis://{}/", self.addr)
    }

    /// Kills the server and waits for it to exit: later commands fail to connect.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Polls `PING` until `+PONG` (or the child exits, or `within` passes).
    fn wait_ready(&mut self, within: Duration) -> bool {
        let addr = self.addr;
        wait_until_ready(&mut self.child, within, Duration::from_millis(20), || {
            let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(200))
            else {
                return false;
            };
            let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
            let mut reply = [0; 7];
            stream.write_all(b"PING\r\n").is_ok()
                && stream.read_exact(&mut reply).is_ok()
                && &reply == b"+PONG\r\n"
        })
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}
