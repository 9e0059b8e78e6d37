//! Tests of reading the Responses API's answer.

use super::*;
use serde_json::json;

fn run(events: &[Value]) -> (Vec<StreamEvent>, Option<Result<()>>, Decoder) {
    let mut out = Vec::new();
    let mut d = Decoder::default();
    let mut end = None;
    for ev in events {
        d.event(ev, &mut |e| out.push(e));
        if let Some(e) = d.end.take() {
            end = Some(e);
            break;
        }
    }
    (out, end, d)
}

#[test]
fn text_reasoning_summary_calls_and_usage_are_read_from_the_events() {
    let (out, end, d) = run(&[
        json!({"type": "response.created", "response": {"model": "gpt-5-2026"}}),
        json!({"type": "response.reasoning_summary_text.delta", "item_id": "rs_1", "summary_index": 0, "delta": "Think"}),
        json!({"type": "response.reasoning_summary_text.delta", "item_id": "rs_1", "summary_index": 1, "delta": "More"}),
        json!({"type": "response.output_text.delta", "item_id": "m", "delta": "Hi"}),
        json!({"type": "response.output_item.added", "item": {"type": "function_call", "id": "fc_1", "call_id": "call_9", "name": "f", "arguments": ""}}),
        json!({"type": "response.function_call_arguments.delta", "item_id": "fc_1", "delta": "{\"a\":"}),
        json!({"type": "response.function_call_arguments.delta", "item_id": "fc_1", "delta": "1}"}),
        json!({"type": "response.completed", "response": {"usage": {"input_tokens": 5, "output_tokens": 9,
            "total_tokens": 14, "output_tokens_details": {"reasoning_tokens": 4}}}}),
    ]);
    assert!(matches!(end, Some(Ok(()))));
    assert_eq!(
        out,
        [
            StreamEvent::Reasoning {
                index: 0,
                text: "Think".into()
            },
            StreamEvent::Reasoning {
                index: 0,
                text: "\n\nMore".into()
            },
            StreamEvent::Delta {
                index: 0,
                text: "Hi".into()
            },
        ]
    );
    let f = d.finish(Ok(()), &mut |_| {}).unwrap();
    assert_eq!(f.model.as_deref(), Some("gpt-5-2026"));
    let u = f.usage.unwrap();
    assert_eq!(
        (u.prompt_tokens, u.completion_tokens, u.reasoning_tokens()),
        (5, 9, Some(4))
    );
    assert_eq!(f.finish_reason(0).as_deref(), Some("tool_calls"));
    let call = &f.tool_calls[&0][0];
    assert_eq!(
        (call.id.as_str(), call.function.arguments.as_str()),
        ("call_9", "{\"a\":1}")
    );
}

#[test]
fn a_failed_response_or_an_error_event_ends_with_the_servers_message() {
    let (out, end, _) = run(&[
        json!({"type": "response.output_text.delta", "delta": "Part"}),
        json!({"type": "response.failed", "response": {"error": {"code": "server_error", "message": "The model failed."}}}),
    ]);
    assert_eq!(out.len(), 1);
    let e = end.unwrap().unwrap_err();
    assert!(
        e.to_string().contains("The model failed. (server_error)"),
        "{e}"
    );
    let (_, end, _) = run(&[
        json!({"type": "error", "code": "ERR_X", "message": "Something went wrong", "param": null}),
    ]);
    assert!(end
        .unwrap()
        .unwrap_err()
        .to_string()
        .contains("Something went wrong"));
}

#[test]
fn an_incomplete_response_says_why_and_a_whole_response_is_read() {
    let (_, end, d) = run(&[json!({"type": "response.incomplete",
        "response": {"incomplete_details": {"reason": "max_output_tokens"}}})]);
    assert!(matches!(end, Some(Ok(()))));
    let f = d.finish(Ok(()), &mut |_| {}).unwrap();
    assert_eq!(f.finish_reason(0).as_deref(), Some("length"));
    let body = json!({"model": "m", "status": "completed", "output": [
        {"type": "reasoning", "summary": [{"type": "summary_text", "text": "Hmm"}]},
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Done"}]}],
        "usage": {"input_tokens": 1, "output_tokens": 2, "total_tokens": 3}});
    let mut out = Vec::new();
    let f = whole_response(body.to_string().as_bytes(), &mut |e| out.push(e)).unwrap();
    assert_eq!(out.len(), 2);
    assert_eq!(f.usage.unwrap().completion_tokens, 2);
}

#[test]
fn a_refusal_is_the_answer_streamed_or_whole() {
    let (out, _, _) = run(&[
        json!({"type": "response.refusal.delta", "item_id": "msg_1", "delta": "I can't"}),
        json!({"type": "response.refusal.delta", "item_id": "msg_1", "delta": " help."}),
    ]);
    let text: String = (out.iter())
        .filter_map(|e| match e {
            StreamEvent::Delta { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(text, "I can't help.");
    let body = json!({"model": "m", "status": "completed", "output": [{"type": "message",
        "role": "assistant", "content": [{"type": "refusal", "refusal": "I can't help."}]}]});
    let mut out = Vec::new();
    whole_response(body.to_string().as_bytes(), &mut |e| out.push(e)).unwrap();
    assert_eq!(
        out,
        [StreamEvent::Delta {
            index: 0,
            text: "I can't help.".into()
        }]
    );
}

#[test]
fn function_call_arguments_count_toward_the_reply_cap() {
    let piece = "z".repeat(MAX_ARGUMENT_BYTES / 2);
    let mut events = vec![];
    for i in 0..40 {
        let id = format!("fc_{i}");
        events.push(json!({"type": "response.output_item.added",
            "item": {"type": "function_call", "id": id, "call_id": id, "name": "f", "arguments": ""}}));
        events.push(json!({"type": "response.function_call_arguments.delta", "item_id": id, "delta": piece}));
    }
    let (_, end, _) = run(&events);
    let err = end.expect("stopped").unwrap_err();
    assert!(err.to_string().contains("limit of 16 MB"), "{err}");
}
