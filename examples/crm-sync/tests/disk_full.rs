//! A full disk: the inbox on a small tmpfs that the test mounts (root only, as in CI) and
//! fills. While full, deliveries are answered 503 and `/healthz` answers 503; no delivery
//! is acknowledged unless stored; after space is freed the service recovers by itself;
//! every acknowledged delivery is still there after `kill -9`.

mod support;

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use bookhook_verify::Provider;
use support::*;

/// A tmpfs mounted for the test, unmounted on drop.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// `None` when not root (outside CI the test is then skipped, loudly).
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status();
        match status {
            Ok(s) if s.success() => Some(Tmpfs { dir }),
            _ => None,
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

/// Fills the file system holding `dir` with one file; returns its path.
fn fill(dir: &Path) -> PathBuf {
    let path = dir.join("filler");
    let mut file = std::fs::File::create(&path).unwrap();
    let chunk = vec![0u8; 64 * 1024];
    // Bounded: the tmpfs is a few MiB.
    for _ in 0..10_000 {
        if file.write_all(&chunk).is_err() {
            break;
        }
    }
    // Whatever is left is smaller than a chunk: take that too.
    for _ in 0..chunk.len() {
        if file.write_all(&[0]).is_err() {
            break;
        }
    }
    let _ = file.sync_all();
    path
}

fn delivery(i: usize) -> (String, Signed) {
    let email = format!("disk-{i:04}@example.com");
    let body = slatis_body(&format!("bkg_disk_{i}"), "Disk Full", &email);
    (email, Signed::now(Provider::Slatis, &body))
}

async fn healthz(client: &reqwest::Client, service: &Service) -> (u16, String) {
    let res = client.get(service.url("/healthz")).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

fn stored_emails(db: &Path) -> BTreeSet<String> {
    db_statuses(db).into_iter().map(|(_, _, e)| e).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_gives_503s_and_unhealthy_then_recovers_and_loses_nothing() {
    let Some(fs) = Tmpfs::mount("4m") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI runs as root and must mount a tmpfs for this test"
        );
        eprintln!("SKIPPED: mounting a tmpfs needs root (run the suite as root, as CI does)");
        return;
    };
    let db = fs.path().join("inbox.db");
    let builder = ServiceBuilder::new(&db).env("SLATIS_WEBHOOK_SECRET", secret(Provider::Slatis));
    let service = builder.start();
    let client = client();
    let mut acked = BTreeSet::new();
    let mut next = 0;

    for _ in 0..20 {
        let (email, signed) = delivery(next);
        next += 1;
        assert_eq!(signed.send(&client, &service).await.0, 202);
        acked.insert(email);
    }
    assert_eq!(healthz(&client, &service).await, (200, "ok".to_owned()));

    // Fill the disk, then keep delivering until the inbox refuses (bounded).
    let filler = fill(fs.path());
    let mut refused = 0;
    for _ in 0..2_000 {
        let (email, signed) = delivery(next);
        next += 1;
        let (status, body) = signed.send(&client, &service).await;
        match status {
            202 => {
                acked.insert(email);
            }
            503 => {
                assert_eq!(body, "inbox unavailable");
                refused += 1;
                if refused == 20 {
                    break;
                }
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(refused, 20, "the full disk never refused a delivery");
    let (status, reason) = healthz(&client, &service).await;
    assert_eq!(status, 503, "{reason}");
    assert!(reason.contains("full"), "{reason}");
    assert_eq!(reason.lines().count(), 1, "{reason}");

    // Free the space: the probe writes again and health comes back without any delivery.
    std::fs::remove_file(filler).unwrap();
    eventually("/healthz to recover", Duration::from_secs(10), async || {
        (healthz(&client, &service).await.0 == 200).then_some(())
    })
    .await;
    for _ in 0..10 {
        let (email, signed) = delivery(next);
        next += 1;
        assert_eq!(signed.send(&client, &service).await.0, 202);
        acked.insert(email);
    }

    // Every acknowledged delivery survives kill -9, and nothing refused was stored.
    service.kill9();
    let stored = stored_emails(&db);
    assert!(
        acked.is_subset(&stored),
        "lost: {:?}",
        acked.difference(&stored).collect::<Vec<_>>()
    );
    assert_eq!(stored.len(), acked.len(), "a refused delivery was stored");
    // And the service starts again on the same file.
    let service = builder.start();
    assert_eq!(healthz(&client, &service).await.0, 200);
    drop(service);
}
