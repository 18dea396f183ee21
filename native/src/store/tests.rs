//! Tests of the node's storage: openraft's storage conformance suite, round trips, and what
//! survives a reopen or a crash.

use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::io::Cursor;
use std::path::Path;

use flotilla_core::model::ClusterState;
use flotilla_core::model::Command;
use flotilla_core::model::ServiceSpec;
use flotilla_core::model::Write;
use flotilla_core::raft::LogEntry;
use flotilla_core::raft::Member;
use flotilla_core::raft::Vote;
use openraft::Membership;
use openraft::RaftLogReader;
use openraft::RaftSnapshotBuilder;
use openraft::StorageError;
use openraft::entry::RaftEntry;
use openraft::storage::IOFlushed;
use openraft::storage::RaftLogStorage;
use openraft::storage::RaftStateMachine;
use openraft::testing::log::StoreBuilder;
use openraft::testing::log::Suite;
use openraft::testing::log_id;
use openraft::type_config::TypeConfigExt;
use tempfile::TempDir;

use super::DiskLogStore;
use super::DurableStateMachine;

openraft::declare_raft_types!(
    /// Flotilla's Raft types on tokio, declared here as the node declares them: the storage is
    /// generic over its type config and is tested without the modules above it.
    StoreTypes:
        D = Write,
        R = flotilla_core::raft::Applied,
        NodeId = u64,
        Node = Member,
        Term = u64,
        LeaderId = flotilla_core::raft::LeaderId,
        AsyncRuntime = openraft_rt_tokio::TokioRuntime,
);

type Log = DiskLogStore<StoreTypes>;
type Sm = DurableStateMachine<StoreTypes>;
type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// Builds each store of the conformance suite in a fresh temporary directory.
struct TempStores;

impl StoreBuilder<StoreTypes, Log, Sm, TempDir> for TempStores {
    async fn build(&self) -> std::result::Result<(TempDir, Log, Sm), StorageError<StoreTypes>> {
        let dir =
            TempDir::new().map_err(|err| StorageError::read(StoreTypes::err_from_error(&err)))?;
        let (log, sm) = super::open(dir.path())
            .map_err(|err| StorageError::read(StoreTypes::err_from_error(&err)))?;
        Ok((dir, log, sm))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passes_openraft_storage_suite() -> std::result::Result<(), StorageError<StoreTypes>> {
    Suite::test_all(TempStores).await
}

fn normal(term: u64, index: u64, command: Command) -> LogEntry {
    LogEntry::new_normal(log_id::<StoreTypes>(term, 1, index), Write::from(command))
}

fn scale(term: u64, index: u64) -> LogEntry {
    normal(
        term,
        index,
        Command::ScaleService {
            id: index,
            replicas: 1,
        },
    )
}

fn members(ids: &[u64]) -> BTreeMap<u64, Member> {
    ids.iter()
        .map(|&id| {
            let member = Member {
                name: format!("node{id}"),
                addr: format!("127.0.0.1:{}", 7000 + id),
                capacity: 4,
            };
            (id, member)
        })
        .collect()
}

fn membership(term: u64, index: u64, ids: &[u64]) -> Result<LogEntry> {
    let voters: BTreeSet<u64> = ids.iter().copied().collect();
    let membership = Membership::new(vec![voters], members(ids))?;
    Ok(LogEntry::new_membership(
        log_id::<StoreTypes>(term, 1, index),
        membership,
    ))
}

/// Appends `entries` and waits until the store says they are on disk.
async fn append(log: &mut Log, entries: Vec<LogEntry>) -> Result<()> {
    let (flushed, on_disk) = StoreTypes::oneshot();
    log.append(entries, IOFlushed::signal(flushed)).await?;
    on_disk.await??;
    Ok(())
}

async fn indexes(log: &mut Log, range: std::ops::RangeInclusive<u64>) -> Result<Vec<u64>> {
    let entries = log.try_get_log_entries(range).await?;
    Ok(entries.iter().map(|entry| entry.index()).collect())
}

/// What a crash (kill -9) leaves: the files as they are while the store is still open, with no
/// clean close. Copies `from` to a new directory.
fn crash_copy(from: &Path) -> Result<TempDir> {
    let to = TempDir::new()?;
    for file in std::fs::read_dir(from)? {
        let file = file?;
        std::fs::copy(file.path(), to.path().join(file.file_name()))?;
    }
    Ok(to)
}

#[tokio::test]
async fn append_read_truncate_purge_round_trip() -> Result<()> {
    let dir = TempDir::new()?;
    let mut log = Log::open(dir.path())?;
    assert_eq!(log.last_index(), 0);
    append(&mut log, (1..=10).map(|i| scale(1, i)).collect()).await?;
    assert_eq!(
        indexes(&mut log, 1..=10).await?,
        (1..=10).collect::<Vec<_>>()
    );
    assert_eq!(indexes(&mut log, 4..=6).await?, vec![4, 5, 6]);
    assert_eq!(log.last_index(), 10);

    let views = log.entries(3..5)?;
    assert_eq!(views.len(), 2);
    assert_eq!((views[0].index, views[0].term), (3, 1));
    assert!(views[0].summary.contains('3'), "{}", views[0].summary);

    // A new leader in term 2 overwrites the tail from 8 on.
    log.truncate_after(Some(log_id::<StoreTypes>(1, 1, 7)))
        .await?;
    assert_eq!(log.last_index(), 7);
    append(&mut log, vec![scale(2, 8), scale(2, 9)]).await?;
    let state = log.get_log_state().await?;
    assert_eq!(state.last_log_id, Some(log_id::<StoreTypes>(2, 1, 9)));

    log.purge(log_id::<StoreTypes>(1, 1, 5)).await?;
    assert_eq!(log.purged_index(), 5);
    assert_eq!(indexes(&mut log, 0..=100).await?, vec![6, 7, 8, 9]);
    let state = log.get_log_state().await?;
    assert_eq!(
        state.last_purged_log_id,
        Some(log_id::<StoreTypes>(1, 1, 5))
    );

    // Purging past the last entry (after installing a snapshot) empties the log.
    log.purge(log_id::<StoreTypes>(3, 1, 20)).await?;
    assert_eq!(indexes(&mut log, 0..=100).await?, Vec::<u64>::new());
    assert_eq!(log.last_index(), 20);
    let state = log.get_log_state().await?;
    assert_eq!(state.last_log_id, Some(log_id::<StoreTypes>(3, 1, 20)));

    log.truncate_after(None).await?;
    assert_eq!(log.last_index(), 20);
    Ok(())
}

#[tokio::test]
async fn vote_and_committed_survive_reopen() -> Result<()> {
    let dir = TempDir::new()?;
    {
        let mut log = Log::open(dir.path())?;
        assert_eq!(log.read_vote().await?, None);
        assert_eq!((log.term(), log.voted_for()), (0, None));
        log.save_vote(&Vote::new(3, 2)).await?;
        log.save_vote(&Vote::new_committed(4, 1)).await?;
        log.save_committed(Some(log_id::<StoreTypes>(4, 1, 12)))
            .await?;
    }
    let mut log = Log::open(dir.path())?;
    assert_eq!(log.read_vote().await?, Some(Vote::new_committed(4, 1)));
    assert_eq!((log.term(), log.voted_for()), (4, Some(1)));
    assert_eq!(
        log.read_committed().await?,
        Some(log_id::<StoreTypes>(4, 1, 12))
    );
    Ok(())
}

#[tokio::test]
async fn entries_survive_a_crash() -> Result<()> {
    let dir = TempDir::new()?;
    let mut log = Log::open(dir.path())?;
    append(&mut log, vec![membership(1, 1, &[1, 2, 3])?]).await?;
    append(&mut log, (2..=40).map(|i| scale(1, i)).collect()).await?;
    log.purge(log_id::<StoreTypes>(1, 1, 3)).await?;
    log.save_vote(&Vote::new_committed(1, 1)).await?;

    // Copy the files while the store is open, as kill -9 would leave them.
    let crashed = crash_copy(dir.path())?;
    let mut reopened = Log::open(crashed.path())?;
    assert_eq!(reopened.last_index(), 40);
    assert_eq!(reopened.purged_index(), 3);
    assert_eq!(reopened.read_vote().await?, Some(Vote::new_committed(1, 1)));
    let before = log.try_get_log_entries(0..).await?;
    let after = reopened.try_get_log_entries(0..).await?;
    assert_eq!(after.len(), 37);
    assert_eq!(before, after);

    // The reopened store goes on where the old one stopped.
    append(&mut reopened, vec![scale(2, 41)]).await?;
    assert_eq!(reopened.last_index(), 41);
    Ok(())
}

#[tokio::test]
async fn a_directory_is_opened_once() -> Result<()> {
    let dir = TempDir::new()?;
    let _log = Log::open(dir.path())?;
    assert!(Log::open(dir.path()).is_err());
    Ok(())
}

/// Applies entries to a state machine, without responders.
async fn apply(sm: &mut Sm, entries: Vec<LogEntry>) -> Result<()> {
    let stream = futures_util::stream::iter(entries.into_iter().map(|entry| Ok((entry, None))));
    sm.apply(stream).await?;
    Ok(())
}

fn create_service(term: u64, index: u64, replicas: u32) -> LogEntry {
    let spec = ServiceSpec {
        label: format!("web{index}"),
        replicas,
        uniq_id: None,
    };
    normal(
        term,
        index,
        Command::CreateServices {
            services: vec![spec],
        },
    )
}

fn state(sm: &Sm) -> ClusterState {
    sm.core().read(|state| state.clone())
}

#[tokio::test]
async fn a_snapshot_survives_reopen_and_restores_the_state() -> Result<()> {
    let dir = TempDir::new()?;
    let (built, expected) = {
        let mut sm = Sm::open(dir.path())?;
        apply(
            &mut sm,
            vec![
                membership(1, 1, &[1, 2, 3])?,
                create_service(1, 2, 5),
                create_service(1, 3, 2),
            ],
        )
        .await?;
        let snapshot = sm.get_snapshot_builder().await.build_snapshot().await?;
        // Applied after the snapshot: volatile, replayed from the log after a restart.
        apply(&mut sm, vec![create_service(1, 4, 1)]).await?;
        (snapshot, state(&sm))
    };
    assert_eq!(expected.nodes().len(), 3);
    assert_eq!(expected.services().len(), 3);

    let mut sm = Sm::open(dir.path())?;
    let (applied, membership) = sm.applied_state().await?;
    assert_eq!(applied, Some(log_id::<StoreTypes>(1, 1, 3)));
    assert_eq!(membership, built.meta.last_membership);
    assert_eq!(sm.core().last_applied_index(), 3);
    assert_eq!(sm.core().snapshot_index(), 3);
    assert_eq!(state(&sm).nodes().len(), 3);
    assert_eq!(state(&sm).services().len(), 2);
    let current = sm
        .get_current_snapshot()
        .await?
        .ok_or("no current snapshot")?;
    assert_eq!(current.meta, built.meta);
    assert_eq!(current.snapshot.get_ref(), built.snapshot.get_ref());

    // Replaying the entry after the snapshot gives the state before the restart.
    apply(&mut sm, vec![create_service(1, 4, 1)]).await?;
    assert_eq!(state(&sm), expected);
    Ok(())
}

#[tokio::test]
async fn an_installed_snapshot_survives_a_crash() -> Result<()> {
    let leader_dir = TempDir::new()?;
    let mut leader = Sm::open(leader_dir.path())?;
    apply(
        &mut leader,
        vec![membership(2, 5, &[1, 2])?, create_service(2, 6, 3)],
    )
    .await?;
    let snapshot = leader.get_snapshot_builder().await.build_snapshot().await?;

    let follower_dir = TempDir::new()?;
    let mut follower = Sm::open(follower_dir.path())?;
    follower
        .install_snapshot(&snapshot.meta, Cursor::new(snapshot.snapshot.into_inner()))
        .await?;
    assert_eq!(state(&follower), state(&leader));

    let crashed = crash_copy(follower_dir.path())?;
    let restarted = Sm::open(crashed.path())?;
    assert_eq!(state(&restarted), state(&leader));
    assert_eq!(restarted.core().last_applied_index(), 6);
    Ok(())
}

#[tokio::test]
async fn an_older_snapshot_never_replaces_a_newer_one() -> Result<()> {
    let dir = TempDir::new()?;
    let mut sm = Sm::open(dir.path())?;
    apply(&mut sm, vec![membership(1, 1, &[1])?]).await?;
    let old = sm.get_snapshot_builder().await.build_snapshot().await?;
    apply(&mut sm, vec![create_service(1, 2, 1)]).await?;
    let new = sm.get_snapshot_builder().await.build_snapshot().await?;
    sm.persist(&old.meta, old.snapshot.get_ref()).await?;
    drop(sm);
    let sm = Sm::open(dir.path())?;
    assert_eq!(
        sm.core().snapshot_index(),
        new.meta.last_log_id.map_or(0, |id| id.index)
    );
    Ok(())
}

#[tokio::test]
async fn a_damaged_snapshot_is_refused_and_a_torn_temporary_file_ignored() -> Result<()> {
    let dir = TempDir::new()?;
    {
        let mut sm = Sm::open(dir.path())?;
        apply(
            &mut sm,
            vec![membership(1, 1, &[1])?, create_service(1, 2, 1)],
        )
        .await?;
        sm.get_snapshot_builder().await.build_snapshot().await?;
    }
    // A write interrupted before its rename leaves a partial temporary file: ignored.
    std::fs::write(dir.path().join("snapshot.bin.tmp"), b"FLOTSNAP\x01")?;
    let sm = Sm::open(dir.path())?;
    assert_eq!(sm.core().last_applied_index(), 2);
    assert!(!dir.path().join("snapshot.bin.tmp").exists());
    drop(sm);

    // A flipped bit in the snapshot itself: refused.
    let path = dir.path().join("snapshot.bin");
    let mut bytes = std::fs::read(&path)?;
    let last = bytes.len() - 1;
    bytes[last] ^= 0x10;
    std::fs::write(&path, &bytes)?;
    match Sm::open(dir.path()) {
        Err(super::StoreError::Corrupt(_)) => {}
        Err(other) => return Err(other.into()),
        Ok(_) => return Err("a damaged snapshot was accepted".into()),
    }

    // A truncated one too.
    std::fs::write(&path, &bytes[..bytes.len() / 2])?;
    assert!(matches!(
        Sm::open(dir.path()),
        Err(super::StoreError::Corrupt(_))
    ));
    Ok(())
}

/// Opens a directory with [`super::open`] and writes a few entries, as a node that ran would.
async fn used_directory() -> Result<TempDir> {
    let dir = TempDir::new()?;
    let (mut log, _sm) = super::open::<StoreTypes>(dir.path())?;
    append(&mut log, (1..=5).map(|i| scale(1, i)).collect()).await?;
    Ok(dir)
}

fn refusal(dir: &Path) -> String {
    match super::open::<StoreTypes>(dir) {
        Ok(_) => "opened".to_string(),
        Err(err) => err.to_string(),
    }
}

#[tokio::test]
async fn a_lost_log_database_is_refused_and_not_recreated() -> Result<()> {
    let dir = used_directory().await?;
    let db = dir.path().join("raft.redb");
    std::fs::remove_file(&db)?;
    let why = refusal(dir.path());
    assert!(
        why.contains("raft.redb does not exist") && why.contains("flotilla.dir"),
        "{why}"
    );
    assert!(!db.exists(), "a refused open created the database");

    std::fs::write(&db, b"")?;
    let why = refusal(dir.path());
    assert!(why.contains("is empty"), "{why}");
    assert_eq!(
        std::fs::metadata(&db)?.len(),
        0,
        "a refused open wrote the database"
    );
    Ok(())
}

#[tokio::test]
async fn a_truncated_log_database_is_refused_naming_it() -> Result<()> {
    let dir = used_directory().await?;
    let db = dir.path().join("raft.redb");
    let length = std::fs::metadata(&db)?.len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&db)?
        .set_len(length / 2)?;
    let why = refusal(dir.path());
    assert!(why.contains("raft.redb does not open"), "{why}");
    Ok(())
}

#[tokio::test]
async fn a_compacted_log_without_its_snapshot_is_refused() -> Result<()> {
    let dir = used_directory().await?;
    {
        let mut log = Log::open(dir.path())?;
        log.purge(log_id::<StoreTypes>(1, 1, 3)).await?;
    }
    let why = refusal(dir.path());
    assert!(
        why.contains("snapshot.bin does not exist") && why.contains("compacted up to log index 3"),
        "{why}"
    );
    Ok(())
}

#[tokio::test]
async fn a_directory_never_used_opens_empty_and_is_marked() -> Result<()> {
    let dir = TempDir::new()?;
    let (log, _sm) = super::open::<StoreTypes>(dir.path())?;
    assert_eq!(log.last_index(), 0);
    assert!(dir.path().join("flotilla.dir").exists());
    Ok(())
}
