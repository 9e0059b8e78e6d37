//! Parley's web process extension (WebKitGTK loads it into the web process that runs `ui/`).
//!
//! It does three things. As it is loaded, before WebKit opens its EGL display, it loads the LLVM of
//! Mesa's driver so that its symbols bind inside it (`llvm.rs`). On the window's message
//! `parley-collect` it runs a full, synchronous JavaScriptCore collection and gives the allocator's
//! free pages back to the system, then replies with the process's anonymous memory before and after
//! (KiB) and the time it took (ms). And when a page has loaded with compositing off, it unmaps the
//! code of the OpenGL driver the web process loaded but does not run (`drop_unused_code`).
//!
//! Why it exists: the DOM of messages scrolled past, or of a conversation left, is garbage that
//! only a full collection frees, and nothing starts one in an idle page: after ten opens of a
//! 10,000-message conversation the web process stayed ~280 MiB up until some later allocation
//! provoked a collection (README, "Performance"). WebKitGTK has no API for the UI process to ask
//! for one (`webkit_web_context_garbage_collect_javascript_objects` is gone from 4.1), the page has
//! none either, and the memory-pressure thresholds WebKit does take freed it in some runs and not
//! in others (measured). The page knows when a lot of DOM went away; it asks the window, the window
//! sends this message.
//!
//! The collection entry points are looked up at run time (`dlsym`): they are exported by
//! libjavascriptcoregtk but not part of its stable API; a missing one is skipped.

#[cfg(target_os = "linux")]
mod llvm;

#[cfg(target_os = "linux")]
mod ext {
    use std::ffi::{c_char, c_void, CStr};
    use std::ptr::null_mut;

    use glib_sys::{gboolean, gpointer, GFALSE, GTRUE};
    use gobject_sys::{g_signal_connect_data, GCallback, GObject};

    /// The message the window sends (`crate::webkit::collect` in the desktop crate).
    const MESSAGE: &CStr = c"parley-collect";

    #[link(name = "webkit2gtk-4.1")]
    extern "C" {
        fn webkit_user_message_get_name(message: *mut c_void) -> *const c_char;
        fn webkit_user_message_new(name: *const c_char, parameters: *mut c_void) -> *mut c_void;
        fn webkit_user_message_send_reply(message: *mut c_void, reply: *mut c_void);
        fn webkit_web_page_get_main_frame(page: *mut c_void) -> *mut c_void;
        fn webkit_frame_get_javascript_global_context(frame: *mut c_void) -> *mut c_void;
    }

    extern "C" {
        fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
        fn g_variant_new_string(s: *const c_char) -> *mut c_void;
        fn madvise(addr: *mut c_void, len: usize, advice: i32) -> i32;
    }
    /// `<sys/mman.h>` on Linux.
    const MADV_DONTNEED: i32 = 4;

    /// A function of the loaded libraries by name, or None.
    unsafe fn lookup(name: &CStr) -> Option<*mut c_void> {
        let f = dlsym(null_mut(), name.as_ptr());
        (!f.is_null()).then_some(f)
    }

    /// Anonymous private dirty memory of this process (KiB): what WebKit itself counts as the
    /// footprint (anonymous mappings, `[heap]`, stacks).
    fn footprint_kib() -> u64 {
        let Ok(smaps) = std::fs::read_to_string("/proc/self/smaps") else {
            return 0;
        };
        let (mut total, mut anon) = (0, false);
        for line in smaps.lines() {
            let mut f = line.split_whitespace();
            let first = f.next().unwrap_or("");
            if first.contains('-') && !first.ends_with(':') {
                let path = f.nth(4);
                anon = match path {
                    None => true,
                    Some(p) => p == "[heap]" || p.starts_with("[stack"),
                };
            } else if anon && first == "Private_Dirty:" {
                total += f.next().and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
            }
        }
        total
    }

    unsafe fn collect(page: *mut c_void) -> (u64, u64) {
        let before = footprint_kib();
        // WebKit's own relief under critical memory pressure, synchronous: caches dropped, compiled
        // code deleted, a full collection now, free pages back to the system in every thread
        // (`WTF::MemoryPressureHandler::singleton().releaseMemory(Critical::Yes,
        // Synchronous::Yes)`; both enums are `enum class : bool`).
        let singleton = lookup(c"_ZN3WTF21MemoryPressureHandler9singletonEv");
        let release =
            lookup(c"_ZN3WTF21MemoryPressureHandler13releaseMemoryENS_8CriticalENS_11SynchronousE");
        if let (Some(singleton), Some(release)) = (singleton, release) {
            let singleton: unsafe extern "C" fn() -> *mut c_void = std::mem::transmute(singleton);
            let release: unsafe extern "C" fn(*mut c_void, bool, bool) =
                std::mem::transmute(release);
            release(singleton(), true, true);
            return (before, footprint_kib());
        }
        // Without it: a full collection of the page's heap, then the allocator's free pages back.
        let frame = webkit_web_page_get_main_frame(page);
        let context = if frame.is_null() {
            null_mut()
        } else {
            webkit_frame_get_javascript_global_context(frame)
        };
        if !context.is_null() {
            // JSGarbageCollect only hints that a collection would be welcome.
            if let Some(f) = lookup(c"JSSynchronousGarbageCollectForDebugging") {
                let f: unsafe extern "C" fn(*mut c_void) = std::mem::transmute(f);
                f(context);
            }
        }
        if let Some(f) = lookup(c"_ZN3WTF27releaseFastMallocFreeMemoryEv") {
            let f: unsafe extern "C" fn() = std::mem::transmute(f);
            f();
        }
        (before, footprint_kib())
    }

    unsafe extern "C" fn on_message(
        page: *mut c_void,
        message: *mut c_void,
        _data: gpointer,
    ) -> gboolean {
        let name = webkit_user_message_get_name(message);
        if name.is_null() || CStr::from_ptr(name) != MESSAGE {
            return GFALSE;
        }
        let t = std::time::Instant::now();
        let (before, after) = collect(page);
        let ms = t.elapsed().as_millis();
        let text = std::ffi::CString::new(format!("{before} {after} {ms}")).unwrap_or_default();
        let reply = webkit_user_message_new(MESSAGE.as_ptr(), g_variant_new_string(text.as_ptr()));
        webkit_user_message_send_reply(message, reply);
        GTRUE
    }

    /// Libraries the web process maps only because WebKit opens an EGL display at start: Mesa's
    /// driver (`dri/*_dri.so`, or `libgallium-*.so` in newer Mesa) and the LLVM it links. Their
    /// static initializers alone fault in ~35 MiB of LLVM's code; only a GL context runs it, and
    /// with compositing off the page draws without one.
    const UNUSED_CODE: [&str; 3] = ["/libLLVM", "/dri/", "/libgallium"];

    /// Compositing off (the window's default): the web process draws without GL.
    fn draws_without_gl() -> bool {
        std::env::var_os("WEBKIT_DISABLE_COMPOSITING_MODE").is_some_and(|v| v == "1")
    }

    /// The code mappings (`r-xp`, backed by a file) of `UNUSED_CODE` in a `/proc/PID/maps` text:
    /// (start, length). Only code: a library's relocated data is this process's own and stays.
    fn unused_code(maps: &str) -> Vec<(usize, usize)> {
        maps.lines()
            .filter_map(|line| {
                let mut f = line.split_whitespace();
                let (range, perms) = (f.next()?, f.next()?);
                let path = f.nth(3)?;
                if perms != "r-xp" || !UNUSED_CODE.iter().any(|u| path.contains(u)) {
                    return None;
                }
                let (a, b) = range.split_once('-')?;
                let (a, b) = (
                    usize::from_str_radix(a, 16).ok()?,
                    usize::from_str_radix(b, 16).ok()?,
                );
                (b > a).then_some((a, b - a))
            })
            .collect()
    }

    /// With compositing off, unmaps the resident pages of that code from this process
    /// (`MADV_DONTNEED`: for a private mapping of a file that was never written, the next use reads
    /// the same bytes back from the file, so a GL context created later — WebGL — still works, it
    /// only faults them in again).
    fn drop_unused_code() {
        if !draws_without_gl() {
            return;
        }
        let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else {
            return;
        };
        for (start, len) in unused_code(&maps) {
            // SAFETY: a whole mapping of this process, code that is never written; see above.
            unsafe { madvise(start as *mut c_void, len, MADV_DONTNEED) };
        }
    }

    unsafe extern "C" fn on_loaded(_page: *mut c_void, _data: gpointer) {
        drop_unused_code();
    }

    unsafe extern "C" fn on_page(_extension: *mut c_void, page: *mut c_void, _data: gpointer) {
        let handler: unsafe extern "C" fn(*mut c_void, *mut c_void, gpointer) -> gboolean =
            on_message;
        connect(page, c"user-message-received", handler as *const ());
        let loaded: unsafe extern "C" fn(*mut c_void, gpointer) = on_loaded;
        connect(page, c"document-loaded", loaded as *const ());
    }

    /// A GObject signal handler (`handler` is an `extern "C"` function of the signal's signature).
    unsafe fn connect(instance: *mut c_void, signal: &CStr, handler: *const ()) {
        let handler: GCallback = Some(std::mem::transmute::<*const (), unsafe extern "C" fn()>(
            handler,
        ));
        g_signal_connect_data(
            instance as *mut GObject,
            signal.as_ptr(),
            handler,
            null_mut(),
            None,
            0,
        );
    }

    /// Called by WebKitGTK once, when it loads this library into a web process.
    #[no_mangle]
    pub unsafe extern "C" fn webkit_web_extension_initialize(extension: *mut c_void) {
        super::llvm::preload();
        let handler: unsafe extern "C" fn(*mut c_void, *mut c_void, gpointer) = on_page;
        connect(extension, c"page-created", handler as *const ());
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn only_the_code_of_the_gl_driver_is_dropped() {
            let maps = "\
7f0000000000-7f0000100000 r--p 00000000 08:01 11 /usr/lib/x86_64-linux-gnu/libLLVM-15.so.1
7f0000100000-7f0000400000 r-xp 00100000 08:01 11 /usr/lib/x86_64-linux-gnu/libLLVM-15.so.1
7f0000400000-7f0000500000 rw-p 00400000 08:01 11 /usr/lib/x86_64-linux-gnu/libLLVM-15.so.1
7f0000600000-7f0000700000 r-xp 00000000 08:01 12 /usr/lib/x86_64-linux-gnu/dri/swrast_dri.so
7f0000800000-7f0000900000 r-xp 00000000 08:01 13 /usr/lib/x86_64-linux-gnu/libwebkit2gtk-4.1.so.0
7f0000900000-7f0000a00000 r-xp 00000000 00:00 0 
7f0000a00000-7f0000b00000 r-xp 00000000 08:01 14 /usr/lib/x86_64-linux-gnu/libgallium-25.0.so";
            assert_eq!(
                super::unused_code(maps),
                vec![
                    (0x7f0000100000, 0x300000),
                    (0x7f0000600000, 0x100000),
                    (0x7f0000a00000, 0x100000)
                ]
            );
        }

        #[test]
        fn the_footprint_of_a_running_process_is_counted() {
            let before = super::footprint_kib();
            let v = vec![1u8; 32 << 20];
            let after = super::footprint_kib();
            assert!(before > 0, "no anonymous dirty memory counted");
            assert!(after >= before + 30 * 1024, "{before} -> {after} KiB");
            drop(v);
        }
    }
}
