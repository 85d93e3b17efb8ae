//! A throw-away PostgreSQL cluster (Debian's `postgresql` package) for crm-sync's
//! PostgreSQL inbox tests: `initdb` into a temporary directory, the server listening on
//! 127.0.0.1 on a free port (its socket in that directory too), stopped and deleted when
//! dropped.
//!
//! `initdb` and `postgres` refuse to run as root, and CI runs as root: there the cluster
//! belongs to the unprivileged `postgres` user the package creates, and every program runs
//! as that user. As any other user it runs as that user.
//!
//! Missing programs: with `CI=true` the test fails (a missing service is never a skip in
//! CI); otherwise it prints exactly what to install and the caller skips.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::server_process::wait_until_ready;

/// A running PostgreSQL server, stopped and deleted on drop.
#[derive(Debug)]
pub struct PostgresServer {
    bin: PathBuf,
    user: Option<(u32, u32)>,
    child: Option<Child>,
    port: u16,
    dir: tempfile::TempDir,
}

/// The newest Debian PostgreSQL's `bin` directory, or the one of `initdb` on `$PATH`.
fn bin_dir() -> Option<PathBuf> {
    let mut debian: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    debian.sort();
    debian.pop().map(|(_, bin)| bin).or_else(|| {
        std::env::split_paths(&std::env::var_os("PATH")?)
            .find(|dir| dir.join("initdb").is_file() && dir.join("postgres").is_file())
    })
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// `(uid, gid)` of the `postgres` user when running as root (`None` otherwise).
fn unprivileged_user() -> Option<(u32, u32)> {
    let me = std::fs::metadata("/proc/self").ok()?;
    use std::os::unix::fs::MetadataExt;
    if me.uid() != 0 {
        return None;
    }
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        (fields.next()? == "postgres").then_some(())?;
        let _password = fields.next()?;
        Some((fields.next()?.parse().ok()?, fields.next()?.parse().ok()?))
    })
}

impl PostgresServer {
    /// Creates and starts a cluster, or returns `None` (after printing what to install)
    /// when PostgreSQL is missing outside CI.
    ///
    /// # Panics
    ///
    /// PostgreSQL is missing and `CI=true`; running as root without a `postgres` user;
    /// `initdb` fails; or the server is not ready within 30 s, five times.
    pub fn start() -> Option<PostgresServer> {
        let Some(bin) = bin_dir() else {
            let help = "PostgreSQL is not installed: run `sudo scripts/install-test-deps.sh` \
                        (or `sudo apt-get install -y postgresql`)";
            assert!(
                !in_ci(),
                "{help}; CI=true, so this is a failure, not a skip"
            );
            eprintln!("SKIPPED: {help}");
            return None;
        };
        let user = unprivileged_user();
        let root = std::fs::metadata("/proc/self")
            .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
            .unwrap_or(false);
        assert!(
            !root || user.is_some(),
            "running as root, but there is no `postgres` user to run PostgreSQL as \
             (Debian's postgresql package creates it)"
        );
        let dir = tempfile::Builder::new()
            .prefix("bookhook-pg-")
            .tempdir()
            .expect("a temporary directory");
        if let Some((uid, gid)) = user {
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid))
                .expect("hand the cluster directory to the postgres user");
        }
        let mut server = PostgresServer {
            bin,
            user,
            child: None,
            port: 0,
            dir,
        };
        let initdb = server
            .command("initdb")
            .arg("-D")
            .arg(server.data())
            .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
            .args(["--locale=C"])
            .output()
            .expect("run initdb");
        assert!(
            initdb.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&initdb.stderr)
        );
        // A port taken between our probe and the server's bind: try another, a few times.
        for _ in 0..5 {
            server.port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free loopback port")
                .port();
            if server.run() {
                return Some(server);
            }
            server.kill();
        }
        panic!("postgres did not start on a fresh port, five times");
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// A command for one of the cluster's programs, as the cluster's owner.
    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(self.bin.join(program));
        if let Some((uid, gid)) = self.user {
            command.uid(uid).gid(gid);
        }
        command.current_dir(self.dir.path());
        command
    }

    /// A client program (`psql`, `createdb`, `pg_isready`) aimed at the server as the
    /// `postgres` superuser.
    fn client(&self, program: &str) -> Command {
        let mut command = self.command(program);
        command.args([
            "-h",
            "127.0.0.1",
            "-p",
            &self.port.to_string(),
            "-U",
            "postgres",
        ]);
        command
    }

    /// `pg_ctl stop` in `mode` (`fast`: clients are disconnected; `immediate`: no
    /// checkpoint), waiting up to `secs`.
    fn pg_ctl_stop(&self, mode: &str, secs: u32) {
        let _ = self
            .command("pg_ctl")
            .arg("stop")
            .arg("-D")
            .arg(self.data())
            .args(["-m", mode, "-w", "-t", &secs.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }

    /// Starts the server on `self.port`; waits until it accepts connections.
    fn run(&mut self) -> bool {
        let log = std::fs::File::create(self.dir.path().join("postgres.log"))
            .expect("create the server log");
        if let Some((uid, gid)) = self.user {
            let _ = std::os::unix::fs::chown(
                self.dir.path().join("postgres.log"),
                Some(uid),
                Some(gid),
            );
        }
        let child = self
            .command("postgres")
            .arg("-D")
            .arg(self.data())
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .arg("-k")
            .arg(self.dir.path())
            // Durable commits, as in production: the measurements and the crash tests
            // are about acknowledged deliveries that survive.
            .args(["-c", "fsync=on", "-c", "synchronous_commit=on"])
            .args(["-c", "max_connections=200", "-c", "shared_buffers=128MB"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn postgres");
        self.child = Some(child);
        self.wait_ready(Duration::from_secs(30))
    }

    /// `postgres://postgres@127.0.0.1:<port>/<database>`.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// The server's address.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// Creates an empty database; returns its URL.
    ///
    /// # Panics
    ///
    /// `createdb` fails.
    pub fn create_database(&self, name: &str) -> String {
        let out = self
            .client("createdb")
            .arg(name)
            .output()
            .expect("run createdb");
        assert!(
            out.status.success(),
            "createdb {name} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        self.url(name)
    }

    /// Runs `sql` with `psql` in `database`; returns its unaligned, tuples-only output.
    ///
    /// # Panics
    ///
    /// `psql` fails.
    pub fn psql(&self, database: &str, sql: &str) -> String {
        let out = self
            .client("psql")
            .args([
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-d",
                database,
                "-c",
                sql,
            ])
            .output()
            .expect("run psql");
        assert!(
            out.status.success(),
            "psql failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Stops the server (fast shutdown: clients are disconnected) and waits for it; the
    /// data stays, and [`start_again`](Self::start_again) brings it back on the same port.
    pub fn stop(&mut self) {
        if self.child.is_none() {
            return;
        }
        self.pg_ctl_stop("fast", 30);
        self.kill();
    }

    /// Starts a stopped server again on the same port with the same data.
    ///
    /// # Panics
    ///
    /// It does not accept connections within 30 s.
    pub fn start_again(&mut self) {
        assert!(self.child.is_none(), "the server is running");
        assert!(self.run(), "postgres did not start again");
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Polls `pg_isready` until the server accepts connections (or exits, or `within`
    /// passes).
    fn wait_ready(&mut self, within: Duration) -> bool {
        let addr = self.addr();
        let mut isready = self.client("pg_isready");
        isready.stdout(Stdio::null()).stderr(Stdio::null());
        wait_until_ready(&mut self.child, within, Duration::from_millis(50), || {
            TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
                && isready.status().is_ok_and(|s| s.success())
        })
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        if self.child.is_some() {
            self.pg_ctl_stop("immediate", 10);
        }
        self.kill();
    }
}
