//! The panic boundary, the thread-local last error, the handle guard, and
//! the pointer checks every exported function goes through.

use core::cell::Cell;
use core::fmt::Display;
use core::ops::Deref;
use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::engine::EngineError;
use crate::engine::SnapshotError;
use crate::kpi::KpiError;
use crate::policy::PolicyError;

use super::status::switchboard_status;

thread_local! {
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Replaces this thread's last-error message.
pub(crate) fn set_last_error(msg: &dyn Display) {
    LAST_ERROR.with(|e| {
        let mut e = e.borrow_mut();
        e.clear();
        use core::fmt::Write;
        // Writing into a String cannot fail.
        let _ = write!(e, "{msg}");
    });
}

/// Runs `f` with this thread's last-error message.
pub(crate) fn with_last_error<R>(f: impl FnOnce(&str) -> R) -> R {
    LAST_ERROR.with(|e| f(&e.borrow()))
}

/// A failing call: the status to return and the message to store.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) status: switchboard_status,
    pub(crate) message: String,
}

impl Failure {
    pub(crate) fn new(status: switchboard_status, message: impl Into<String>) -> Self {
        Failure {
            status,
            message: message.into(),
        }
    }

    /// A required pointer was NULL.
    pub(crate) fn null(arg: &str) -> Self {
        Failure::new(
            switchboard_status::NullArgument,
            format!("argument `{arg}` is NULL"),
        )
    }

    /// A value outside its allowed range.
    pub(crate) fn invalid(arg: &str, value: impl Display, allowed: &str) -> Self {
        Failure::new(
            switchboard_status::InvalidArgument,
            format!("argument `{arg}` is {value}; allowed: {allowed}"),
        )
    }

    /// The handle was poisoned by an earlier panic.
    pub(crate) fn poisoned() -> Self {
        Failure::new(
            switchboard_status::Panic,
            "the handle is unusable: an earlier call on it panicked (free it)",
        )
    }
}

/// Lets `?` turn a library error into its status (status.rs maps each
/// variant) and its `Display` text. Kept here rather than in status.rs so
/// that status.rs needs nothing from this file.
macro_rules! failure_from {
    ($($error:ty),* $(,)?) => {$(
        impl From<$error> for Failure {
            fn from(e: $error) -> Self {
                Failure::new((&e).into(), e.to_string())
            }
        }
    )*};
}

failure_from!(EngineError, PolicyError, SnapshotError, KpiError);

/// Every exported function's result before it becomes a status.
pub(crate) type FfiResult = Result<(), Failure>;

/// The one panic boundary: runs `f`, turns its error into a status and the
/// thread's last-error message, and turns a panic into `PANIC`.
pub(crate) fn ffi_guard(f: impl FnOnce() -> FfiResult) -> switchboard_status {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => switchboard_status::Ok,
        Ok(Err(failure)) => {
            set_last_error(&failure.message);
            failure.status
        }
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
                .unwrap_or("(no message)");
            set_last_error(&format_args!("panic inside switchboard: {what}"));
            switchboard_status::Panic
        }
    }
}

/// A handle's poison flag: set while a call on the handle runs, so a panic
/// that escapes the call leaves it set and every later call is refused (the
/// handle's state may be half-updated).
#[derive(Debug, Default)]
pub(crate) struct Poison(Cell<bool>);

impl Poison {
    /// Refuses a poisoned handle; otherwise marks the call as running.
    fn enter(&self) -> FfiResult {
        if self.0.get() {
            return Err(Failure::poisoned());
        }
        self.0.set(true);
        Ok(())
    }

    /// Marks the call as finished; never reached when the call panicked.
    fn leave(&self) {
        self.0.set(false);
    }
}

/// An opaque object C holds by pointer (`switchboard_engine`,
/// `switchboard_kpi`), so that every handle gets the same NULL check,
/// poisoning and freeing from [`with_handle_mut`], [`with_handle`] and
/// [`free_handle`].
pub(crate) trait Handle {
    /// The parameter name a NULL handle is reported under.
    const ARG: &'static str;

    /// The handle's poison flag.
    fn poison(&self) -> &Poison;
}

/// Runs `f` on a live handle inside the panic boundary; a panic leaves the
/// handle poisoned.
pub(crate) fn with_handle_mut<H: Handle>(
    handle: *mut H,
    f: impl FnOnce(&mut H) -> FfiResult,
) -> switchboard_status {
    ffi_guard(|| {
        // SAFETY: the caller passes NULL or a live handle it does not share.
        let h = unsafe { arg_mut(handle, H::ARG) }?;
        poisoning(h, |h| f(h))
    })
}

/// [`with_handle_mut`] for queries.
pub(crate) fn with_handle<H: Handle>(
    handle: *const H,
    f: impl FnOnce(&H) -> FfiResult,
) -> switchboard_status {
    ffi_guard(|| {
        // SAFETY: as above.
        let h = unsafe { arg_ref(handle, H::ARG) }?;
        poisoning(h, |h| f(h))
    })
}

/// The poisoning steps, written once for both borrows (`&H` and `&mut H`).
fn poisoning<H: Handle, R: Deref<Target = H>>(
    mut h: R,
    f: impl FnOnce(&mut R) -> FfiResult,
) -> FfiResult {
    h.poison().enter()?;
    let r = f(&mut h);
    h.poison().leave();
    r
}

/// Frees a handle made with `Box::into_raw`. NULL is a no-op. The poison
/// flag is not checked: freeing is the one thing a poisoned handle is for.
///
/// # Safety
/// `handle` must be NULL or a live handle from `Box::into_raw`; it must not
/// be used after.
pub(crate) unsafe fn free_handle<H: Handle>(handle: *mut H) {
    if handle.is_null() {
        return;
    }
    // Dropping plain Rust data does not panic; guard anyway so nothing
    // unwinds into C.
    let _ = ffi_guard(|| {
        // SAFETY: a live handle from Box::into_raw, by the caller's contract.
        drop(unsafe { Box::from_raw(handle) });
        Ok(())
    });
}

/// [`ffi_guard`] that never touches the last-error message (for
/// `switchboard_last_error` itself).
pub(crate) fn ffi_guard_quiet(f: impl FnOnce() -> FfiResult) -> switchboard_status {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => switchboard_status::Ok,
        Ok(Err(failure)) => failure.status,
        Err(_) => switchboard_status::Panic,
    }
}

/// A required input pointer as a reference.
///
/// # Safety
/// `p` must be NULL or valid for reads of a `T` for `'a`.
pub(crate) unsafe fn arg_ref<'a, T>(p: *const T, arg: &str) -> Result<&'a T, Failure> {
    // SAFETY: non-NULL pointers are valid by the caller's contract.
    unsafe { p.as_ref() }.ok_or_else(|| Failure::null(arg))
}

/// A required handle pointer as a mutable reference.
///
/// # Safety
/// `p` must be NULL or valid for reads and writes of a `T` for `'a`, with
/// no other reference to it alive.
pub(crate) unsafe fn arg_mut<'a, T>(p: *mut T, arg: &str) -> Result<&'a mut T, Failure> {
    // SAFETY: as above.
    unsafe { p.as_mut() }.ok_or_else(|| Failure::null(arg))
}

/// An input array `(ptr, len)`. NULL is accepted when `len == 0`.
///
/// # Safety
/// When `len > 0`, `p` must point to `len` initialised, aligned `T`s that
/// stay valid and unmodified for `'a`.
pub(crate) unsafe fn arg_slice<'a, T>(
    p: *const T,
    len: usize,
    arg: &str,
) -> Result<&'a [T], Failure> {
    if len == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(Failure::null(arg));
    }
    if len > isize::MAX as usize / core::mem::size_of::<T>().max(1) {
        return Err(Failure::invalid(arg, len, "a length that fits in memory"));
    }
    // SAFETY: non-NULL, length checked, validity by the caller's contract.
    Ok(unsafe { core::slice::from_raw_parts(p, len) })
}

/// Checks an output pointer is not NULL, without writing it yet (out-params
/// are written only on success, after every check passed).
pub(crate) fn out_ptr<T>(p: *mut T, arg: &str) -> Result<*mut T, Failure> {
    if p.is_null() {
        Err(Failure::null(arg))
    } else {
        Ok(p)
    }
}

/// Checks a caller buffer `(buf, cap, out_len)` before anything else
/// happens: `out_len` must be non-NULL, `buf` may be NULL only with `cap == 0`.
pub(crate) fn check_buffer<T>(buf: *mut T, cap: usize, out_len: *mut usize) -> FfiResult {
    out_ptr(out_len, "out_len")?;
    if buf.is_null() && cap != 0 {
        return Err(Failure::null("buf"));
    }
    Ok(())
}

/// Copies `needed` items into the caller buffer `(buf, cap, out_len)`.
///
/// `buf == NULL && cap == 0`: size query, `*out_len = needed`, OK.
/// `cap < needed`: `*out_len = needed`, `BUFFER_TOO_SMALL`, `buf` untouched.
/// Otherwise the items are written and `*out_len = needed`.
///
/// # Safety
/// `buf` must be NULL or valid for writes of `cap` `T`s; `out_len` must be
/// NULL or valid for a write; `items` must yield exactly `needed` items.
pub(crate) unsafe fn out_items<T>(
    needed: usize,
    items: impl IntoIterator<Item = T>,
    buf: *mut T,
    cap: usize,
    out_len: *mut usize,
) -> FfiResult {
    check_buffer(buf, cap, out_len)?;
    if buf.is_null() {
        // SAFETY: checked non-NULL above; writable by contract.
        unsafe { out_len.write(needed) };
        return Ok(());
    }
    if cap < needed {
        // SAFETY: as above.
        unsafe { out_len.write(needed) };
        return Err(Failure::new(
            switchboard_status::BufferTooSmall,
            format!("the buffer holds {cap} items; {needed} are needed"),
        ));
    }
    let mut written = 0;
    for item in items.into_iter().take(needed) {
        // SAFETY: written < needed <= cap, and `buf` holds `cap` items.
        unsafe { buf.add(written).write(item) };
        written += 1;
    }
    // SAFETY: as above.
    unsafe { out_len.write(written) };
    Ok(())
}

/// Hands a queue out once: `more` joins what the handle already holds, all
/// of it is copied into the caller's buffer, and the queue empties only when
/// it was copied (a size query or a too-small buffer keeps everything for
/// the next call).
///
/// # Safety
/// As [`out_items`].
pub(crate) unsafe fn hand_out<T, C>(
    queue: &mut Vec<T>,
    more: Vec<T>,
    to_c: impl Fn(&T) -> C,
    buf: *mut C,
    cap: usize,
    out_len: *mut usize,
) -> FfiResult {
    check_buffer(buf, cap, out_len)?;
    queue.extend(more);
    // SAFETY: the caller's contract.
    unsafe { out_items(queue.len(), queue.iter().map(to_c), buf, cap, out_len) }?;
    if !buf.is_null() {
        queue.clear();
    }
    Ok(())
}
