//! The admin's side of the control channel against a fake data plane on a temporary Unix
//! socket: identity pushes carry what admin.db holds, a data plane that comes back without the
//! last snapshot gets it again under a higher version, and the event log becomes audit entries
//! and is trimmed behind the cursor.

use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::{Arc, Mutex};

use admin::app::App;
use admin::store::{AccessKey, AuditFilter, Store, Tenant, User};
use control::events::{Event, EventKind};
use control::identity::IdentitySnapshot;
use control::wire::{Request, Response, Status, read_frame, write_frame};

#[derive(Default)]
struct DataPlane {
    identity: Option<IdentitySnapshot>,
    settings_version: u64,
    events: Vec<Event>,
    trimmed_through: u64,
    /// Master key versions beyond the first (a rotation adds one).
    rotations: u32,
    /// `PutIdentity` is answered with an error (a data plane that refuses the snapshot).
    refuse_identity: bool,
    /// `PutIdentity` waits while this holds (a stalled data plane).
    stall_identity: bool,
}

const LEGACY_SECRET: &str = "legacy-plaintext-SECRET-0123456789";

fn event(seq: u64, kind: EventKind, key: Option<&str>) -> Event {
    let denied = kind == EventKind::AccessDenied;
    Event {
        partition: 0,
        seq,
        time_unix_ms: 1_000 * i64::try_from(seq).expect("fake data plane"),
        kind,
        operation: "PutObject".into(),
        bucket: "photos".into(),
        key: key.map(Into::into),
        version_id: None,
        size: Some(5),
        etag: None,
        access_key_id: Some("AKEXAMPLE".into()),
        user_id: Some("user-1".into()),
        tenant_id: Some("tenant-1".into()),
        request_id: format!("req-{seq}"),
        source_ip: Some("127.0.0.1".into()),
        status: if denied { 403 } else { 200 },
        iam_action: denied.then(|| "s3:PutObject".into()),
        resource_arn: denied.then(|| "arn:aws:s3:::photos".into()),
        decided_by: denied.then(|| "implicit deny: no statement allowed it".into()),
    }
}

fn answer(state: &Mutex<DataPlane>, request: Request) -> Response {
    let mut state = state.lock().expect("fake data plane");
    match request {
        Request::Hello { protocol } => Response::Hello {
            protocol,
            shards: 1,
            partitions: 1,
        },
        Request::PutIdentity { .. } if state.refuse_identity => Response::Error {
            code: "InvalidRequest".into(),
            message: "refused".into(),
        },
        Request::PutIdentity { snapshot } => {
            snapshot.validate().expect("fake data plane");
            state.identity = Some(snapshot);
            Response::Ok
        }
        Request::PutSettings { snapshot } => {
            state.settings_version = snapshot.version;
            Response::Ok
        }
        Request::Status => Response::Status(Status {
            shards: 1,
            partitions: 1,
            identity_version: state.identity.as_ref().map_or(0, |s| s.version),
            settings_version: state.settings_version,
            event_heads: vec![state.events.last().map_or(0, |e| e.seq)],
            master_key_version: 1 + state.rotations,
        }),
        Request::SealingKeys => {
            let current = 1 + state.rotations;
            let keys = (1..=current).map(|version| {
                (
                    version,
                    [u8::try_from(version).expect("fake data plane"); 32],
                )
            });
            Response::SealingKeys(
                control::sealing::SealingKeys::new(current, keys)
                    .expect("fake data plane")
                    .to_wire(),
            )
        }
        Request::ReadEvents { after, limit, .. } => Response::Events {
            events: state
                .events
                .iter()
                .filter(|e| e.seq > after)
                .take(limit as usize)
                .cloned()
                .collect(),
        },
        Request::TrimEvents { through, .. } => {
            state.trimmed_through = through;
            state.events.retain(|e| e.seq > through);
            Response::Ok
        }
        other => Response::Error {
            code: "InvalidRequest".into(),
            message: format!("not faked: {other:?}"),
        },
    }
}

fn serve(listener: &UnixListener, state: &Arc<Mutex<DataPlane>>) {
    for stream in listener.incoming() {
        let Ok(mut stream): Result<UnixStream, _> = stream else {
            return;
        };
        let state = Arc::clone(state);
        std::thread::spawn(move || {
            while let Ok(Some(request)) = read_frame::<Request>(&mut stream) {
                let stalls = |state: &Mutex<DataPlane>| {
                    state.lock().expect("fake data plane").stall_identity
                };
                while matches!(request, Request::PutIdentity { .. }) && stalls(&state) {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                if write_frame(&mut stream, &answer(&state, request)).is_err() {
                    return;
                }
            }
        });
    }
}

fn seed(store: &Store) {
    store
        .insert_tenant(&Tenant {
            id: "tenant-1".into(),
            name: "acme".into(),
            display_name: "Acme".into(),
            status: "active".into(),
            max_storage_bytes: Some(1000),
            max_buckets: Some(3),
            max_access_keys: None,
            created_at: 0,
            updated_at: 0,
        })
        .expect("fake data plane");
    store
        .insert_user(&User {
            id: "user-1".into(),
            username: "alice".into(),
            password_hash: admin::secrets::hash_password("Alice-Pass-1").expect("fake data plane"),
            tenant_id: Some("tenant-1".into()),
            role: "user".into(),
            status: "active".into(),
            email: None,
            display_name: None,
            failed_attempts: 0,
            locked_until: 0,
            totp_secret: None,
            totp_enabled: false,
            totp_pending_secret: None,
            totp_last_step: None,
            created_at: 0,
            updated_at: 0,
        })
        .expect("fake data plane");
    store
        .insert_access_key(&AccessKey {
            access_key_id: "AKEXAMPLE".into(),
            secret_access_key: LEGACY_SECRET.into(),
            user_id: "user-1".into(),
            status: "inactive".into(),
            created_at: 0,
        })
        .expect("fake data plane");
}

#[tokio::test]
async fn pushes_repushes_and_consumes_the_event_log() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("control.sock");
    let state = Arc::new(Mutex::new(DataPlane::default()));
    let listener = UnixListener::bind(&socket).unwrap();
    let served = Arc::clone(&state);
    std::thread::spawn(move || serve(&listener, &served));

    let store = Store::open(&dir.path().join("admin.db")).unwrap();
    seed(&store);
    let root = admin::RootIdentity {
        user: "root".into(),
        secret: "root-secret".into(),
    };
    let app = App::new(store, admin::link::Link::new(socket), root).unwrap();

    assert!(app.push_identity(0).await);
    {
        let state = state.lock().unwrap();
        let snapshot = state.identity.as_ref().unwrap();
        assert_eq!(snapshot.version, 1);
        assert_eq!(snapshot.tenants[0].quota.max_storage_bytes, Some(1000));
        assert_eq!(snapshot.users[0].tenant_id.as_deref(), Some("tenant-1"));
        assert!(
            !snapshot.access_keys[0].enabled,
            "an inactive key is pushed disabled"
        );
        assert_eq!(snapshot.access_keys[0].secret_access_key, LEGACY_SECRET);
    }
    // The plaintext row of an older admin.db was sealed on the way, and left the files.
    let stored = app.store.access_key("AKEXAMPLE").unwrap().unwrap();
    assert_eq!(
        control::sealing::sealed_version(&stored.secret_access_key),
        Some(1)
    );
    let on_disk = |name: &str| std::fs::read(dir.path().join(name)).unwrap_or_default();
    for file in ["admin.db", "admin.db-wal"] {
        let bytes = on_disk(file);
        assert!(
            !bytes
                .windows(LEGACY_SECRET.len())
                .any(|window| window == LEGACY_SECRET.as_bytes()),
            "{file} still holds the plaintext secret"
        );
    }

    // The first round pushes the settings (none yet there) and consumes two events.
    state.lock().unwrap().events = vec![
        event(1, EventKind::ObjectCreated, Some("cat.jpg")),
        event(2, EventKind::AccessDenied, None),
    ];
    app.sync_once().await;
    {
        let state = state.lock().unwrap();
        assert_eq!(
            state.identity.as_ref().unwrap().version,
            1,
            "nothing to re-push"
        );
        assert!(state.settings_version >= 1);
        assert_eq!(state.trimmed_through, 2);
        assert!(state.events.is_empty());
    }
    let (entries, total) = app
        .store
        .audit_page(
            &AuditFilter {
                source: Some("s3".into()),
                ..AuditFilter::default()
            },
            1,
            10,
        )
        .unwrap();
    assert_eq!(total, 2);
    assert_eq!(entries[0].event_type, "access_denied");
    assert_eq!(entries[0].status, "denied");
    let details: serde_json::Value =
        serde_json::from_str(entries[0].details.as_deref().unwrap()).unwrap();
    assert_eq!(details["iam_action"], "s3:PutObject");
    assert_eq!(details["resource_arn"], "arn:aws:s3:::photos");
    assert_eq!(
        details["decided_by"],
        "implicit deny: no statement allowed it"
    );
    assert_eq!(entries[1].event_type, "object_uploaded");
    assert_eq!(entries[1].resource.as_deref(), Some("photos/cat.jpg"));
    assert_eq!(entries[1].username.as_deref(), Some("alice"));
    assert_eq!(app.store.cursor(0).unwrap(), 2);

    // A rotation on the data plane: the next round fetches the new keys and re-seals.
    state.lock().unwrap().rotations = 1;
    app.sync_once().await;
    let stored = app.store.access_key("AKEXAMPLE").unwrap().unwrap();
    assert_eq!(
        control::sealing::sealed_version(&stored.secret_access_key),
        Some(2)
    );

    // The data plane comes back without the identity: the next round pushes it again, newer.
    state.lock().unwrap().identity = None;
    app.sync_once().await;
    let state = state.lock().unwrap();
    assert_eq!(state.identity.as_ref().unwrap().version, 2);
    assert_eq!(
        state.identity.as_ref().unwrap().access_keys[0].secret_access_key,
        LEGACY_SECRET
    );
}

#[tokio::test]
async fn without_the_data_plane_no_secret_is_sealed_opened_or_written_in_plaintext() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("admin.db")).unwrap();
    seed(&store);
    let root = admin::RootIdentity {
        user: "root".into(),
        secret: "root-secret".into(),
    };
    let link = admin::link::Link::new(dir.path().join("no-such.sock"));
    let app = App::new(store, link, root).unwrap();
    let context = control::sealing::access_key_context("AKNEW");
    assert!(matches!(
        app.seal(&context, b"new secret").await,
        Err(admin::error::SecretError::Unavailable(_))
    ));
    // A row from before sealing still reads (it is what the file holds until keys come).
    let legacy = app
        .open(
            &control::sealing::access_key_context("AKEXAMPLE"),
            LEGACY_SECRET,
        )
        .await
        .unwrap();
    assert_eq!(legacy.bytes(), LEGACY_SECRET.as_bytes());
    // A sealed row needs the keys.
    let sealed = control::sealing::SealingKeys::new(1, [(1, [1u8; 32])])
        .unwrap()
        .seal(&context, b"x");
    assert!(matches!(
        app.open(&context, &sealed).await,
        Err(admin::error::SecretError::Unavailable(_))
    ));
    assert!(!app.push_identity(0).await);
}

fn started(dir: &std::path::Path) -> (Arc<App>, Arc<Mutex<DataPlane>>) {
    let socket = dir.join("control.sock");
    let state = Arc::new(Mutex::new(DataPlane::default()));
    let listener = UnixListener::bind(&socket).expect("test setup");
    let served = Arc::clone(&state);
    std::thread::spawn(move || serve(&listener, &served));
    let store = Store::open(&dir.join("admin.db")).expect("test setup");
    seed(&store);
    let root = admin::RootIdentity {
        user: "root".into(),
        secret: "root-secret".into(),
    };
    let app = App::new(store, admin::link::Link::new(socket), root).expect("test setup");
    (Arc::new(app), state)
}

fn note() -> admin::audit_note::AuditNote {
    admin::audit_note::AuditNote {
        resource: Some("alice/AKEXAMPLE".into()),
        details: Some(r#"{"value":"x"}"#.into()),
        ..admin::audit_note::AuditNote::default()
    }
}

fn held_version(state: &Mutex<DataPlane>) -> u64 {
    state
        .lock()
        .expect("test setup")
        .identity
        .as_ref()
        .map_or(0, |s| s.version)
}

/// The audit details of a `NotInForce` answer: what the note held, and why.
fn assert_not_in_force(error: &admin::error::ApiError) {
    assert_eq!(error.status.as_u16(), 503);
    assert_eq!(error.code, "NotInForce");
    assert!(error.message.contains("saved"), "{}", error.message);
    let note = error.note.as_ref().expect("an audit note");
    assert_eq!(note.resource.as_deref(), Some("alice/AKEXAMPLE"));
    let details: serde_json::Value =
        serde_json::from_str(note.details.as_deref().expect("test setup")).expect("test setup");
    assert_eq!(details["value"], "x");
    assert_eq!(details["saved"], true);
    assert_eq!(details["in_force"], false);
}

#[tokio::test]
async fn a_refused_push_is_an_error_and_pushed_again_though_the_versions_match() {
    let dir = tempfile::tempdir().unwrap();
    let (app, state) = started(dir.path());
    app.identity_in_force(note()).await.unwrap();
    assert_eq!(held_version(&state), 1);

    state.lock().unwrap().refuse_identity = true;
    let error = app.identity_in_force(note()).await.unwrap_err();
    assert_not_in_force(&error);
    assert_eq!(held_version(&state), 1);

    // The data plane still holds version 1, the one pushed last before the failure; the loop
    // must not take the match for "up to date".
    state.lock().unwrap().refuse_identity = false;
    app.sync_once().await;
    assert!(held_version(&state) > 1);
    let pushed = held_version(&state);
    app.sync_once().await;
    assert_eq!(held_version(&state), pushed, "nothing more to push");
}

#[tokio::test]
async fn a_stalled_data_plane_is_an_error_within_the_timeout_and_the_push_lands_later() {
    let dir = tempfile::tempdir().unwrap();
    let (app, state) = started(dir.path());
    app.identity_in_force(note()).await.unwrap();

    state.lock().unwrap().stall_identity = true;
    let began = std::time::Instant::now();
    let error = app.identity_in_force(note()).await.unwrap_err();
    let waited = began.elapsed();
    assert_not_in_force(&error);
    assert!(
        error.message.contains("did not confirm"),
        "{}",
        error.message
    );
    assert!(waited >= admin::app::PUSH_TIMEOUT);
    assert!(waited < admin::app::PUSH_TIMEOUT * 2, "waited {waited:?}");

    // The push was not dropped: once the data plane moves again it lands, in order.
    state.lock().unwrap().stall_identity = false;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while held_version(&state) < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "the late push never landed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    app.identity_in_force(note()).await.unwrap();
    assert_eq!(held_version(&state), 3);
}
