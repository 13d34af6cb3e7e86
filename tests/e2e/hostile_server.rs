//! A hostile SSH server against runcode's own client: once the command is
//! asked for, the server tries to open every kind of channel toward the
//! client, which asked for none of them: agent, X11, forwarded-tcpip,
//! session, direct-tcpip, forwarded-streamlocal and direct-streamlocal.
//! Each is refused with the stable SSH reason
//! `SSH_OPEN_ADMINISTRATIVELY_PROHIBITED` (russh's client accepted a
//! direct-streamlocal channel unless told otherwise), and the command
//! itself still runs. The server is a fake (russh's server, on 127.0.0.1): no real sshd
//! opens those channels toward a client that did not ask, which is the
//! fault to inject. The host key is pinned as runcode pins any.

use std::sync::{Arc, Mutex};

use russh::server::{self, Msg, Server as _, Session};
use russh::{Channel, ChannelId};

use crate::util::cli::Cli;
use crate::util::devplane::Devplane;
use crate::util::world::scratch;

#[derive(Clone)]
struct Hostile {
    seen: Arc<Mutex<Vec<String>>>,
}

impl server::Server for Hostile {
    type Handler = Self;
    fn new_client(&mut self, _: Option<std::net::SocketAddr>) -> Self {
        self.clone()
    }
}

fn told<T>(r: Result<T, russh::Error>) -> String {
    match r {
        Ok(_) => "accepted".to_owned(),
        Err(russh::Error::ChannelOpenFailure(why)) => format!("{why:?}"),
        Err(e) => format!("error {e}"),
    }
}

impl server::Handler for Hostile {
    type Error = russh::Error;

    async fn auth_publickey(
        &mut self,
        _: &str,
        _: server::VerifiedPublicKey<'_>,
    ) -> Result<server::Auth, Self::Error> {
        Ok(server::Auth::Accept)
    }

    async fn channel_open_session(
        &mut self,
        _: Channel<Msg>,
        reply: server::ChannelOpenHandle,
        _: &mut Session,
    ) -> Result<(), Self::Error> {
        reply.accept().await;
        Ok(())
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        _: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_success(channel)?;
        let handle = session.handle();
        let seen = Arc::clone(&self.seen);
        tokio::spawn(async move {
            let agent = told(handle.channel_open_agent().await);
            let x11 = told(handle.channel_open_x11("127.0.0.1", 6010).await);
            let tcpip = told(
                handle
                    .channel_open_forwarded_tcpip("127.0.0.1", 8080, "127.0.0.1", 5555)
                    .await,
            );
            let session_channel = told(handle.channel_open_session().await);
            let direct = told(
                handle
                    .channel_open_direct_tcpip("127.0.0.1", 22, "127.0.0.1", 5555)
                    .await,
            );
            let streamlocal = told(
                handle
                    .channel_open_forwarded_streamlocal("/tmp/agent.sock")
                    .await,
            );
            let direct_streamlocal = told(
                handle
                    .channel_open_direct_streamlocal("/tmp/agent.sock")
                    .await,
            );
            if let Ok(mut s) = seen.lock() {
                s.extend([
                    format!("agent: {agent}"),
                    format!("x11: {x11}"),
                    format!("forwarded-tcpip: {tcpip}"),
                    format!("session: {session_channel}"),
                    format!("direct-tcpip: {direct}"),
                    format!("forwarded-streamlocal: {streamlocal}"),
                    format!("direct-streamlocal: {direct_streamlocal}"),
                ]);
            }
            let _ = handle.data(channel, "ran\n").await;
            let _ = handle.exit_status_request(channel, 0).await;
            let _ = handle.eof(channel).await;
            let _ = handle.close(channel).await;
        });
        Ok(())
    }
}

#[test]
fn a_server_that_opens_any_channel_toward_the_client_is_refused_each() {
    // A real session's directory, pointed at the hostile server.
    let dp = Devplane::start(&[]);
    let cli = Cli::new(&dp);
    cli.ok(&["connect", "1001"]);
    let copy = scratch("hostile-ssh");
    for name in ["meta.json", "id_ed25519", "id_ed25519.pub", "config"] {
        std::fs::copy(cli.session_dir(1001).join(name), copy.path().join(name)).unwrap();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let key_file = copy.path().join("host_key");
    let made = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&key_file)
        .status()
        .unwrap();
    assert!(made.success());
    let host_key = russh::keys::load_secret_key(&key_file, None).unwrap();
    let pin = host_key.public_key().to_openssh().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(("127.0.0.1", 0)))
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    let config = Arc::new(server::Config {
        keys: vec![host_key],
        ..Default::default()
    });
    let mut hostile = Hostile {
        seen: Arc::clone(&seen),
    };
    runtime.spawn(async move {
        let _ = hostile.run_on_socket(config, &listener).await;
    });
    let meta_path = copy.path().join("meta.json");
    let mut meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&meta_path).unwrap()).unwrap();
    meta["port"] = port.into();
    std::fs::write(&meta_path, meta.to_string()).unwrap();
    let host = meta["host"].as_str().unwrap().to_owned();
    std::fs::write(
        copy.path().join("known_hosts"),
        format!("[{host}]:{port} {pin}\n"),
    )
    .unwrap();

    let log = copy.path().join("said.log");
    let out = cli
        .cmd()
        .args(["ssh-builtin", "--session"])
        .arg(copy.path())
        .arg("--log")
        .arg(&log)
        .args(["--", "true"])
        .output()
        .unwrap();
    assert_eq!(
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).as_ref()
        ),
        (Some(0), "ran\n"),
        "{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        [
            "agent: AdministrativelyProhibited",
            "x11: AdministrativelyProhibited",
            "forwarded-tcpip: AdministrativelyProhibited",
            "session: AdministrativelyProhibited",
            "direct-tcpip: AdministrativelyProhibited",
            "forwarded-streamlocal: AdministrativelyProhibited",
            "direct-streamlocal: AdministrativelyProhibited",
        ],
    );
    // The holder of the copied session ends with its directory.
    drop(copy);
    runtime.shutdown_background();
}
