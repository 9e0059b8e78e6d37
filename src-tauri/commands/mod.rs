//! Thin `#[tauri::command]` adapters: state in, call the core, map the error. No logic here.
//! All run off the main thread (`async`), so a long conversation never blocks the window.

pub mod app;
pub mod attachments;
pub mod chat;
pub mod consent;
pub mod conversations;
pub mod eval;
pub mod judging;
pub mod links;
pub mod models;
pub mod organise;
pub mod profile;
pub mod prompts;
pub mod search;
pub mod state;
pub mod suite_runs;
pub mod suites_edit;
pub mod tools;

/// Every command the webview may call (also listed, by name, in build.rs and the capability).
pub fn handler<R: tauri::Runtime>() -> impl Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync + 'static
{
    tauri::generate_handler![
        app::app_info,
        app::param_spec,
        conversations::list_conversations,
        conversations::create_conversation,
        conversations::rename_conversation,
        conversations::update_conversation,
        conversations::set_conversation_profile,
        conversations::delete_conversation,
        conversations::restore_conversation,
        conversations::get_messages,
        search::search_messages,
        search::get_thread_page,
        search::open_at_message,
        search::search_facets,
        search::get_conversation,
        prompts::list_prompts,
        prompts::save_prompt,
        prompts::prompt_versions,
        prompts::rollback_prompt,
        prompts::delete_prompt,
        prompts::set_prompt_favourite,
        prompts::rename_prompt,
        prompts::prompt_diff,
        prompts::prompt_scores,
        prompts::fill_prompt,
        prompts::import_prompts,
        prompts::export_prompts,
        eval::rate_reply,
        eval::get_rating,
        eval::list_rating_reasons,
        eval::set_rating_reasons,
        eval::choose_reply,
        eval::arena_round,
        eval::arena_vote,
        eval::leaderboard,
        eval::ratings_by_model,
        eval::export_ratings,
        eval::judge_agreement,
        conversations::select_branch,
        conversations::conversation_totals,
        models::list_model_table,
        models::save_model_info,
        models::remove_model_info,
        chat::send_message,
        chat::retry_message,
        chat::cancel_stream,
        tools::get_conversation_tools,
        tools::set_conversation_tools,
        tools::get_conversation_logprobs,
        tools::set_conversation_logprobs,
        profile::get_profile,
        profile::update_profile,
        profile::set_api_key,
        profile::clear_api_key,
        profile::confirm_api_key,
        profile::list_models,
        profile::list_profiles,
        profile::create_profile,
        profile::delete_profile,
        profile::set_default_profile,
        profile::set_app_proxy,
        profile::find_local_servers,
        links::check_link,
        links::open_link,
        judging::list_rubrics,
        judging::save_rubric,
        judging::judge_reply,
        judging::judge_pair,
        judging::list_verdicts,
        judging::verdicts_of_messages,
        judging::list_all_verdicts,
        organise::list_archived_conversations,
        organise::list_folders,
        organise::create_folder,
        organise::rename_folder,
        organise::move_folder,
        organise::delete_folder,
        organise::list_tags,
        organise::create_tag,
        organise::update_tag,
        organise::delete_tag,
        organise::organise_conversations,
        organise::undo_organise,
        organise::delete_conversations,
        organise::restore_conversations,
        organise::export_conversations,
        organise::import_conversations,
        organise::cancel_import,
        organise::list_backups,
        organise::restore_backup,
        chat::continue_from_token,
        tools::set_conversation_response_format,
        attachments::attach_image,
        attachments::attach_file,
        attachments::attachment_limits,
        attachments::set_image_max_edge,
        organise::compact_database,
        suite_runs::list_suite_runs,
        suite_runs::suite_run_grid,
        suite_runs::open_suite_cell,
        suite_runs::suite_runs_like,
        suite_runs::compare_suite_runs,
        // The suite library in the window (branch suitewin).
        suites_edit::list_suites,
        suites_edit::load_suite,
        suites_edit::save_suite,
        suites_edit::delete_suite,
        suites_edit::paste_suite_table,
        suites_edit::import_suite,
        suites_edit::export_suite,
        suites_edit::run_library_suite,
        // Start-up (branch start): the page reports its first paint.
        app::page_shown,
        app::release_memory,
        app::release_window_memory,
    ]
}
