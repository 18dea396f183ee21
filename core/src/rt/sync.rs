//! Channels and the async mutex, as openraft's runtime traits name them.
//!
//! tokio's `sync` primitives need no tokio runtime and wake waiters in FIFO order, so they stay
//! deterministic on our executor; these types only adapt them to the `openraft_rt` traits. (Its
//! watch channel is the exception: see [`super::watch`].)

use std::future::Future;

use openraft_rt::Mpsc;
use openraft_rt::MpscReceiver;
use openraft_rt::MpscSender;
use openraft_rt::MpscWeakSender;
use openraft_rt::Mutex;
use openraft_rt::Oneshot;
use openraft_rt::OneshotSender;
use openraft_rt::OptionalSend;
use openraft_rt::SendError;
use openraft_rt::TryRecvError;
use tokio::sync::mpsc;
use tokio::sync::oneshot;

/// Bounded multi-producer single-consumer channels (tokio's).
#[derive(Debug)]
pub struct VirtualMpsc;

/// The sending half of a [`VirtualMpsc`] channel.
#[derive(Debug)]
pub struct MpscTx<T>(mpsc::Sender<T>);

/// The receiving half of a [`VirtualMpsc`] channel.
#[derive(Debug)]
pub struct MpscRx<T>(mpsc::Receiver<T>);

/// A sender that does not keep a [`VirtualMpsc`] channel open.
#[derive(Debug)]
pub struct MpscWeakTx<T>(mpsc::WeakSender<T>);

impl<T> Clone for MpscTx<T> {
    fn clone(&self) -> Self {
        MpscTx(self.0.clone())
    }
}

impl<T> Clone for MpscWeakTx<T> {
    fn clone(&self) -> Self {
        MpscWeakTx(self.0.clone())
    }
}

impl Mpsc for VirtualMpsc {
    type Sender<T: OptionalSend> = MpscTx<T>;
    type Receiver<T: OptionalSend> = MpscRx<T>;
    type WeakSender<T: OptionalSend> = MpscWeakTx<T>;

    fn channel<T: OptionalSend>(buffer: usize) -> (Self::Sender<T>, Self::Receiver<T>) {
        let (tx, rx) = mpsc::channel(buffer);
        (MpscTx(tx), MpscRx(rx))
    }
}

impl<T: OptionalSend> MpscSender<VirtualMpsc, T> for MpscTx<T> {
    async fn send(&self, msg: T) -> Result<(), SendError<T>> {
        self.0.send(msg).await.map_err(|err| SendError(err.0))
    }

    fn downgrade(&self) -> MpscWeakTx<T> {
        MpscWeakTx(self.0.downgrade())
    }
}

impl<T: OptionalSend> MpscReceiver<T> for MpscRx<T> {
    fn recv(&mut self) -> impl Future<Output = Option<T>> + OptionalSend {
        self.0.recv()
    }

    fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.0.try_recv().map_err(|err| match err {
            mpsc::error::TryRecvError::Empty => TryRecvError::Empty,
            mpsc::error::TryRecvError::Disconnected => TryRecvError::Disconnected,
        })
    }
}

impl<T: OptionalSend> MpscWeakSender<VirtualMpsc, T> for MpscWeakTx<T> {
    fn upgrade(&self) -> Option<MpscTx<T>> {
        self.0.upgrade().map(MpscTx)
    }
}

/// One-shot channels (tokio's).
#[derive(Debug)]
pub struct VirtualOneshot;

/// The sending half of a [`VirtualOneshot`] channel.
#[derive(Debug)]
pub struct OneshotTx<T>(oneshot::Sender<T>);

impl Oneshot for VirtualOneshot {
    type Sender<T: OptionalSend> = OneshotTx<T>;
    type Receiver<T: OptionalSend> = oneshot::Receiver<T>;
    type ReceiverError = oneshot::error::RecvError;

    fn channel<T: OptionalSend>() -> (Self::Sender<T>, Self::Receiver<T>) {
        let (tx, rx) = oneshot::channel();
        (OneshotTx(tx), rx)
    }
}

impl<T: OptionalSend> OneshotSender<T> for OneshotTx<T> {
    fn send(self, t: T) -> Result<(), T> {
        self.0.send(t)
    }
}

/// An async mutex (tokio's: FIFO among waiters, no runtime needed).
#[derive(Debug)]
pub struct VirtualMutex<T>(tokio::sync::Mutex<T>);

impl<T: OptionalSend + 'static> Mutex<T> for VirtualMutex<T> {
    type Guard<'a> = tokio::sync::MutexGuard<'a, T>;

    fn new(value: T) -> Self {
        VirtualMutex(tokio::sync::Mutex::new(value))
    }

    fn lock(&self) -> impl Future<Output = Self::Guard<'_>> + OptionalSend {
        self.0.lock()
    }
}
