/// The app's commands, by name: each becomes an `allow-…` permission that the main window's
/// capability grants one by one (SECURITY.md W2).
const COMMANDS: &[&str] = &[
    "app_info",
    "param_spec",
    "list_conversations",
    "create_conversation",
    "rename_conversation",
    "update_conversation",
    "set_conversation_profile",
    "delete_conversation",
    "restore_conversation",
    "get_messages",
    "search_messages",
    "get_thread_page",
    "open_at_message",
    "search_facets",
    "get_conversation",
    "list_prompts",
    "save_prompt",
    "prompt_versions",
    "rollback_prompt",
    "delete_prompt",
    "set_prompt_favourite",
    "rename_prompt",
    "prompt_diff",
    "prompt_scores",
    "fill_prompt",
    "import_prompts",
    "export_prompts",
    "rate_reply",
    "get_rating",
    "list_rating_reasons",
    "set_rating_reasons",
    "choose_reply",
    "arena_round",
    "arena_vote",
    "leaderboard",
    "ratings_by_model",
    "export_ratings",
    "judge_agreement",
    "select_branch",
    "conversation_totals",
    "list_model_table",
    "save_model_info",
    "remove_model_info",
    "send_message",
    "retry_message",
    "cancel_stream",
    "get_conversation_tools",
    "set_conversation_tools",
    "get_conversation_logprobs",
    "set_conversation_logprobs",
    "get_profile",
    "update_profile",
    "set_api_key",
    "clear_api_key",
    "confirm_api_key",
    "list_models",
    "list_profiles",
    "create_profile",
    "delete_profile",
    "set_default_profile",
    "set_app_proxy",
    "find_local_servers",
    "check_link",
    "open_link",
    "list_rubrics",
    "save_rubric",
    "judge_reply",
    "judge_pair",
    "list_verdicts",
    "verdicts_of_messages",
    "list_all_verdicts",
    "list_archived_conversations",
    "list_folders",
    "create_folder",
    "rename_folder",
    "move_folder",
    "delete_folder",
    "list_tags",
    "create_tag",
    "update_tag",
    "delete_tag",
    "organise_conversations",
    "undo_organise",
    "delete_conversations",
    "restore_conversations",
    "export_conversations",
    "import_conversations",
    "cancel_import",
    "list_backups",
    "restore_backup",
    "continue_from_token",
    "set_conversation_response_format",
    "attach_image",
    "attach_file",
    "attachment_limits",
    "set_image_max_edge",
    "compact_database",
    "list_suite_runs",
    "suite_run_grid",
    "open_suite_cell",
    "suite_runs_like",
    "compare_suite_runs",
    // The suite library in the window (branch suitewin).
    "list_suites",
    "load_suite",
    "save_suite",
    "delete_suite",
    "paste_suite_table",
    "import_suite",
    "export_suite",
    "run_library_suite",
    "page_shown",
    "release_memory",
    "release_window_memory",
];

fn main() {
    link_flite_voice_first();
    println!("cargo:rerun-if-changed=src-tauri/capabilities");
    println!("cargo:rerun-if-changed=ui");
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .capabilities_path_pattern("./src-tauri/capabilities/**/*")
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri build step failed");
}

/// Linux, where the system's WebKitGTK links flite's "time" voice (Debian 12's does, for speech
/// synthesis): that library among the executable's own. Its 31,294 relocations each name a symbol
/// of its own, and the dynamic loader looks each one up through every library loaded before it
/// (~80 of WebKit's ~170); listed by the executable, it is the 16th and each lookup stops there
/// (first of all measured the same: 44 ms against 46). Measured
/// (10 alternated starts): the window's process from exec to `main` 72 → 46 ms median. The web and
/// network processes get the same order through `LD_PRELOAD` (src-tauri/webkit.rs, lever `flite`).
/// Without that library, or without pkg-config, nothing is added.
fn link_flite_voice_first() {
    const VOICE: &str = "libflite_cmu_time_awb.so.1";
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("linux") {
        return;
    }
    let Ok(out) = std::process::Command::new("pkg-config")
        .args(["--variable=libdir", "webkit2gtk-4.1"])
        .output()
    else {
        return;
    };
    let libdir = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !out.status.success() || libdir.is_empty() {
        return;
    }
    let webkit = std::path::Path::new(&libdir).join("libwebkit2gtk-4.1.so.0");
    println!("cargo:rerun-if-changed={}", webkit.display());
    let Ok(bytes) = std::fs::read(&webkit) else {
        return;
    };
    // The library's names of what it needs are NUL-terminated strings of its `.dynstr`.
    let needed = format!("\0{VOICE}\0");
    if bytes.windows(needed.len()).any(|w| w == needed.as_bytes()) {
        // Kept although nothing of ours calls into it (`--no-as-needed`; rustc's own modifier for
        // that is unstable). Link arguments come after the libraries, so it is the last of the
        // executable's own 15: ahead of the ~155 they bring.
        println!(
            "cargo:rustc-link-arg-bins=-Wl,--push-state,--no-as-needed,-l:{VOICE},--pop-state"
        );
    }
}
