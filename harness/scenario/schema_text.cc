// Generated from scenarios/schema.json: edit that file, then copy it here verbatim between the
// delimiters (schema_test.cc checks they are equal byte for byte).
#include "harness/scenario/schema_text.h"

namespace callsim::harness {

std::string_view ScenarioSchemaText() {
  static constexpr std::string_view kText = R"schema_json({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "callsim scenario",
  "description": "One kind of call for callsim: the line (codec, network), the caller, the agent's settings, the fake providers, the turns with their expectations, the load and the pass/fail thresholds. Written in YAML; see scenarios/README.md. callsim's loader enforces this schema and reports violations as file:line:col: path: message.",
  "type": "object",
  "additionalProperties": false,
  "required": [
    "name"
  ],
  "properties": {
    "name": {
      "description": "The scenario's name, used in reports and in the store.",
      "type": "string",
      "minLength": 1
    },
    "codec": {
      "description": "The codec on both directions of the line: l16 (16 kHz linear), pcmu (G.711 mu-law, 8 kHz, the telephone format) or opus (see `opus` for its settings).",
      "type": "string",
      "enum": [
        "l16",
        "pcmu",
        "opus"
      ],
      "default": "l16"
    },
    "opus": {
      "description": "Opus settings, used when codec is opus.",
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "sample_rate_hz": {
          "description": "Opus's internal sample rate: 16000 (wideband, the default: cheapest) or 48000 (fullband, as WebRTC; the agent's 16 kHz audio is resampled with libsoxr).",
          "type": "integer",
          "enum": [
            16000,
            48000
          ],
          "default": 16000
        },
        "fec": {
          "description": "In-band forward error correction: each packet carries a coarse copy of the previous frame, decoded when that frame was lost.",
          "type": "boolean",
          "default": true
        },
        "expected_loss_pct": {
          "description": "The encoder's expected packet loss hint, in percent (more FEC bits when higher).",
          "type": "integer",
          "minimum": 0,
          "maximum": 100,
          "default": 10
        },
        "bitrate_bps": {
          "description": "Target bitrate, in bits per second.",
          "type": "integer",
          "minimum": 6000,
          "maximum": 510000,
          "default": 32000
        },
        "complexity": {
          "description": "Encoder complexity, 0 (cheapest) to 10 (best quality); load runs use low values.",
          "type": "integer",
          "minimum": 0,
          "maximum": 10,
          "default": 0
        }
      }
    },
    "network": {
      "description": "The simulated network between the caller and the agent, one link per direction.",
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "uplink": {
          "description": "Caller -> agent.",
          "$ref": "#/definitions/link"
        },
        "downlink": {
          "description": "Agent -> caller.",
          "$ref": "#/definitions/link"
        }
      }
    },
    "caller": {
      "description": "The simulated caller: background noise, echo, speaking rate and how it waits for the agent.",
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "noise": {
          "description": "Background noise in the caller's microphone, mixed at snr_db measured on the actual signals.",
          "type": "object",
          "additionalProperties": false,
          "properties": {
            "type": {
              "description": "none | white | pink | babble (other modem talkers) | file (a WAV or FLAC recording, looped).",
              "type": "string",
              "enum": [
                "none",
                "white",
                "pink",
                "babble",
                "file"
              ],
              "default": "none"
            },
            "snr_db": {
              "description": "Speech power over noise power while the caller speaks, in dB.",
              "type": "number",
              "minimum": -20,
              "maximum": 100,
              "default": 30
            },
            "file": {
              "description": "type file only (and required there): the noise recording, WAV or FLAC, relative to the scenario's folder.",
              "type": "string",
              "pattern": "\\.([Ww][Aa][Vv]|[Ff][Ll][Aa][Cc])$"
            },
            "talkers": {
              "description": "type babble only: how many other modem talkers make the babble.",
              "type": "integer",
              "minimum": 1,
              "maximum": 16,
              "default": 4
            }
          },
          "allOf": [
            {
              "description": "file is required with type file, and only allowed there.",
              "if": {
                "required": [
                  "type"
                ],
                "properties": {
                  "type": {
                    "const": "file"
                  }
                }
              },
              "then": {
                "required": [
                  "file"
                ]
              },
              "else": {
                "not": {
                  "required": [
                    "file"
                  ]
                }
              }
            },
            {
              "description": "talkers applies only to type babble.",
              "if": {
                "required": [
                  "type"
                ],
                "properties": {
                  "type": {
                    "const": "babble"
                  }
                }
              },
              "else": {
                "not": {
                  "required": [
                    "talkers"
                  ]
                }
              }
            }
          ]
        },
        "echo": {
          "description": "The agent's voice leaking back into the caller's microphone (a speakerphone, a hybrid). Present means enabled; {} uses the defaults.",
          "type": "object",
          "additionalProperties": false,
          "properties": {
            "return_loss_db": {
              "description": "How far below the agent's voice (as heard) the echo is, in dB.",
              "type": "number",
              "minimum": 0,
              "maximum": 80,
              "default": 20
            },
            "delay_ms": {
              "description": "Acoustic or hybrid delay after the caller hears the agent, in ms.",
              "type": "number",
              "minimum": 0,
              "maximum": 1000,
              "default": 40
            }
          }
        },
        "words_per_minute": {
          "description": "The caller's speaking rate.",
          "type": "number",
          "exclusiveMinimum": 0,
          "maximum": 1000,
          "default": 150
        },
        "variation": {
          "description": "Seeded per-caller variation: each caller draws its own speaking rate and pause scale.",
          "type": "object",
          "additionalProperties": false,
          "properties": {
            "rate": {
              "description": "Standard deviation of the speaking rate, as a share of words_per_minute.",
              "type": "number",
              "minimum": 0,
              "maximum": 0.5,
              "default": 0
            },
            "pauses": {
              "description": "Standard deviation of the pause-length scale, as a share.",
              "type": "number",
              "minimum": 0,
              "maximum": 0.5,
              "default": 0
            }
          }
        },
        "repeat_phrase": {
          "description": "What the caller says on a repeat turn.",
          "$ref": "#/definitions/words",
          "default": "sorry, could you say that again"
        },
        "reply_timeout_ms": {
          "description": "How long the caller waits for the agent to answer, in ms.",
          "type": "number",
          "exclusiveMinimum": 0,
          "maximum": 86400000,
          "default": 10000
        },
        "reply_end_silence_ms": {
          "description": "Agent silence that tells the caller the reply is over, in ms.",
          "type": "number",
          "minimum": 0,
          "maximum": 60000,
          "default": 900
        }
      }
    },
    "agent": {
      "description": "Settings of callsim's reference agent.",
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "greeting": {
          "description": "What the agent says when the call starts.",
          "type": "string"
        },
        "system_prompt": {
          "description": "The LLM's system prompt.",
          "type": "string"
        },
        "vad": {
          "description": "Voice activity detection on the caller's audio.",
          "type": "object",
          "additionalProperties": false,
          "properties": {
            "threshold_dbfs": {
              "description": "Level above which a frame counts as speech, in dBFS.",
              "type": "number",
              "minimum": -120,
              "maximum": 0,
              "default": -45
            },
            "start_ms": {
              "description": "Speech needed before the VAD reports a start, in ms.",
              "$ref": "#/definitions/pipeline_ms",
              "default": 60
            },
            "stop_ms": {
              "description": "Silence needed before the VAD reports a stop, in ms.",
              "$ref": "#/definitions/pipeline_ms",
              "default": 250
            }
          }
        },
        "endpointing": {
          "description": "When the caller's turn is over.",
          "type": "object",
          "additionalProperties": false,
          "properties": {
            "delay_ms": {
              "description": "The minimum delay: silence after the VAD stop before a turn that sounds finished ends, in ms.",
              "$ref": "#/definitions/pipeline_ms",
              "default": 300
            },
            "max_delay_ms": {
              "description": "The delay for a turn whose words stop mid-sentence (\"my number is\"), in ms; a value below delay_ms acts as delay_ms.",
              "$ref": "#/definitions/pipeline_ms",
              "default": 1500
            }
          }
        },
        "barge_in": {
          "description": "How the agent lets itself be interrupted.",
          "type": "object",
          "additionalProperties": false,
          "properties": {
            "min_speech_ms": {
              "description": "Caller speech needed to interrupt the agent, in ms.",
              "$ref": "#/definitions/pipeline_ms",
              "default": 200
            },
            "min_words": {
              "description": "Words the STT must also have recognised before the agent stops (0: duration alone).",
              "type": "integer",
              "minimum": 0,
              "maximum": 20,
              "default": 0
            },
            "false_interruption_timeout_ms": {
              "description": "After a barge-in with no words within this long, the agent resumes its reply, in ms (0: never).",
              "$ref": "#/definitions/pipeline_ms",
              "default": 2000
            },
            "echo_guard_db": {
              "description": "While the agent speaks, caller audio counts as speech only above the agent's recent level minus this, in dB (0: off).",
              "type": "number",
              "minimum": 0,
              "maximum": 80,
              "default": 12
            }
          }
        },
        "jitter_buffer": {
          "description": "The agent's jitter buffer.",
          "type": "object",
          "additionalProperties": false,
          "properties": {
            "target_ms": {
              "description": "Target playout delay, in ms.",
              "$ref": "#/definitions/pipeline_ms",
              "default": 40
            },
            "adaptive": {
              "description": "Let the target delay follow the measured arrival jitter, within min_ms and max_ms.",
              "type": "boolean",
              "default": false
            },
            "min_ms": {
              "description": "Smallest adaptive target, in ms.",
              "$ref": "#/definitions/pipeline_ms",
              "default": 20
            },
            "max_ms": {
              "description": "Largest adaptive target, in ms; a value below min_ms acts as min_ms.",
              "$ref": "#/definitions/pipeline_ms",
              "default": 200
            }
          }
        },
        "max_call_ms": {
          "description": "The longest a call may last, in ms; the agent hangs up then.",
          "type": "number",
          "exclusiveMinimum": 0,
          "maximum": 86400000,
          "default": 300000
        },
        "silence": {
          "description": "The silence watchdog: a caller who says nothing is prompted, then the call ends.",
          "type": "object",
          "additionalProperties": false,
          "properties": {
            "timeout_ms": {
              "description": "Caller silence after the agent finished speaking before a prompt, in ms (0: no watchdog).",
              "type": "number",
              "minimum": 0,
              "maximum": 86400000,
              "default": 10000
            },
            "max_prompts": {
              "description": "Prompts before the agent says goodbye and hangs up.",
              "type": "integer",
              "minimum": 0,
              "maximum": 10,
              "default": 2
            }
          }
        },
        "tools": {
          "description": "Tools behind guardrails.",
          "type": "object",
          "additionalProperties": false,
          "properties": {
            "file": {
              "description": "A YAML list of declared tools (name, description, backend, destructive, timeout_ms, parameters as JSON Schema), relative to the scenario file; scenarios/tools/standard.yaml declares the fake back ends' tools.",
              "type": "string",
              "minLength": 1
            },
            "allow": {
              "description": "The declared tools this agent may run (the allowlist); absent: all of them.",
              "type": "array",
              "maxItems": 1000,
              "items": {
                "type": "string",
                "minLength": 1
              }
            },
            "max_steps_per_turn": {
              "description": "Tool calls the model may propose per caller turn; more are blocked.",
              "type": "integer",
              "minimum": 1,
              "maximum": 100,
              "default": 3
            },
            "filler_after_ms": {
              "description": "A filler phrase plays when a tool has run this long, in ms.",
              "$ref": "#/definitions/pipeline_ms",
              "default": 1500
            },
            "circuit_breaker": {
              "description": "One breaker per back end, shared by every call of the run.",
              "type": "object",
              "additionalProperties": false,
              "properties": {
                "failure_threshold": {
                  "description": "Consecutive failures that open the breaker.",
                  "type": "integer",
                  "minimum": 1,
                  "maximum": 100,
                  "default": 5
                },
                "open_ms": {
                  "description": "How long an open breaker fails calls fast, in ms.",
                  "type": "number",
                  "minimum": 0,
                  "maximum": 86400000,
                  "default": 30000
                }
              }
            }
          }
        },
        "fallback": {
          "description": "Retry and failover when a provider fails or does not answer.",
          "type": "object",
          "additionalProperties": false,
          "properties": {
            "enabled": {
              "description": "Retry and fail over (false: the first error goes straight to the apology).",
              "type": "boolean",
              "default": true
            },
            "retries": {
              "description": "Retries on the primary provider, each after backoff_ms.",
              "type": "integer",
              "minimum": 0,
              "maximum": 5,
              "default": 1
            },
            "backoff_ms": {
              "description": "Wait before a retry, in ms.",
              "$ref": "#/definitions/pipeline_ms",
              "default": 250
            },
            "first_response_timeout_ms": {
              "description": "A request with no first response after this long is treated as failed, in ms.",
              "type": "number",
              "exclusiveMinimum": 0,
              "maximum": 600000,
              "default": 2500
            }
          }
        }
      }
    },
    "fakes": {
      "description": "The fake providers behind the reference agent.",
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "stt": {
          "description": "Fake speech-to-text.",
          "type": "object",
          "additionalProperties": false,
          "properties": {
            "profile": {
              "description": "Robustness profile: default (like a good production STT) or perfect (no errors).",
              "type": "string",
              "enum": [
                "default",
                "perfect"
              ],
              "default": "default"
            },
            "final_latency_ms": {
              "description": "Endpoint to final transcript, in ms.",
              "$ref": "#/definitions/latency"
            },
            "capacity": {
              "description": "Shared capacity of the STT service.",
              "$ref": "#/definitions/capacity"
            },
            "faults": {
              "description": "Faults injected into this provider.",
              "$ref": "#/definitions/faults"
            },
            "secondary": {
              "description": "A secondary provider to fail over to.",
              "$ref": "#/definitions/secondary"
            }
          }
        },
        "llm": {
          "description": "Fake LLM driven by a script of rules.",
          "type": "object",
          "additionalProperties": false,
          "properties": {
            "script": {
              "description": "The rules file (YAML), relative to the scenario's folder.",
              "type": "string",
              "minLength": 1
            },
            "ttft_ms": {
              "description": "Request to first token, in ms.",
              "$ref": "#/definitions/latency"
            },
            "tokens_per_s": {
              "description": "Streaming rate after the first token.",
              "type": "number",
              "exclusiveMinimum": 0,
              "maximum": 1000000,
              "default": 50
            },
            "capacity": {
              "description": "Shared capacity of the LLM service.",
              "$ref": "#/definitions/capacity"
            },
            "faults": {
              "description": "Faults injected into this provider.",
              "$ref": "#/definitions/faults"
            },
            "secondary": {
              "description": "A secondary provider to fail over to.",
              "$ref": "#/definitions/secondary"
            }
          }
        },
        "tts": {
          "description": "Fake text-to-speech.",
          "type": "object",
          "additionalProperties": false,
          "properties": {
            "ttfb_ms": {
              "description": "Request to first audio byte, in ms.",
              "$ref": "#/definitions/latency"
            },
            "capacity": {
              "description": "Shared capacity of the TTS service.",
              "$ref": "#/definitions/capacity"
            },
            "faults": {
              "description": "Faults injected into this provider.",
              "$ref": "#/definitions/faults"
            },
            "secondary": {
              "description": "A secondary provider to fail over to.",
              "$ref": "#/definitions/secondary"
            }
          }
        },
        "tools": {
          "description": "Fake tool back ends (fakes/tools): latency and failure injection per back end.",
          "type": "object",
          "additionalProperties": false,
          "properties": {
            "orders": {
              "description": "Orders: check_order_status, cancel_order.",
              "$ref": "#/definitions/tool_backend"
            },
            "appointments": {
              "description": "Appointments: find_slots, book_appointment, cancel_appointment.",
              "$ref": "#/definitions/tool_backend"
            },
            "payments": {
              "description": "Payments: take_payment, refund.",
              "$ref": "#/definitions/tool_backend"
            },
            "transfer": {
              "description": "Transfer to a human: transfer_to_human.",
              "$ref": "#/definitions/tool_backend"
            }
          }
        }
      }
    },
    "turns": {
      "description": "What the caller does, in order, and what must happen. Required, except with load.mix (where it is not allowed).",
      "title": "turns",
      "type": "array",
      "minItems": 1,
      "maxItems": 10000,
      "items": {
        "$ref": "#/definitions/turn"
      }
    },
    "load": {
      "description": "How many calls, arriving how, and which scenarios they run.",
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "callers": {
          "description": "Total calls; arrivals stop after this many (or when the phases end).",
          "type": "integer",
          "minimum": 1,
          "maximum": 1000000,
          "default": 1
        },
        "arrival": {
          "description": "When calls start: { rate_per_s } (evenly spaced) or { phases: [...] }. Without it every call starts at once.",
          "type": "object",
          "additionalProperties": false,
          "properties": {
            "rate_per_s": {
              "description": "Shorthand for one constant phase: calls per second, evenly spaced.",
              "$ref": "#/definitions/rate_per_s"
            },
            "phases": {
              "description": "Arrival phases, one after another. Each item has one key: constant, ramp or poisson.",
              "title": "phases",
              "type": "array",
              "minItems": 1,
              "maxItems": 1000,
              "items": {
                "$ref": "#/definitions/phase"
              }
            }
          },
          "allOf": [
            {
              "description": "arrival takes exactly one of rate_per_s and phases.",
              "oneOf": [
                {
                  "required": [
                    "rate_per_s"
                  ]
                },
                {
                  "required": [
                    "phases"
                  ]
                }
              ]
            }
          ]
        },
        "duration_s": {
          "description": "A bound on the run's virtual time, in s; 0 runs until every call has ended.",
          "type": "number",
          "minimum": 0,
          "maximum": 86400,
          "default": 0
        },
        "mix": {
          "description": "Weighted shares of the calls that run other scenario files (their own line, caller, agent, fakes and turns). Mixes do not nest.",
          "title": "mix entries",
          "type": "array",
          "minItems": 1,
          "maxItems": 100,
          "items": {
            "description": "One scenario of the mix.",
            "type": "object",
            "additionalProperties": false,
            "required": [
              "scenario"
            ],
            "properties": {
              "scenario": {
                "description": "The scenario file, relative to this file's folder. It must not have a mix of its own.",
                "type": "string",
                "minLength": 1
              },
              "weight": {
                "description": "Relative share of the calls.",
                "type": "number",
                "exclusiveMinimum": 0,
                "maximum": 1000000,
                "default": 1
              }
            }
          }
        }
      }
    },
    "thresholds": {
      "description": "Pass/fail criteria on run metrics, in k6's grammar: metric -> list of expressions such as \"p(95)<1200\", \"value<0.08\", \"rate>0.9\". The metrics are callsim's catalogue (harness/measure/threshold.h); the loader rejects any other name.",
      "type": "object",
      "additionalProperties": {
        "$ref": "#/definitions/threshold_list"
      },
      "properties": {
        "turn_latency": {
          "description": "Voice-to-voice latency at the caller's ear, ms: p(N), avg, min, max, med, count.",
          "$ref": "#/definitions/threshold_list"
        },
        "barge_in_stop": {
          "description": "Barge-in start to the last agent sample heard, ms: p(N), avg, min, max, med, count.",
          "$ref": "#/definitions/threshold_list"
        },
        "endpointing": {
          "description": "The agent's endpointing delay per turn, ms: p(N), avg, min, max, med, count.",
          "$ref": "#/definitions/threshold_list"
        },
        "stt_final": {
          "description": "Endpoint to final transcript, ms: p(N), avg, min, max, med, count.",
          "$ref": "#/definitions/threshold_list"
        },
        "llm_ttft": {
          "description": "LLM request to first token, ms: p(N), avg, min, max, med, count.",
          "$ref": "#/definitions/threshold_list"
        },
        "first_sentence": {
          "description": "LLM request to the first complete sentence, ms: p(N), avg, min, max, med, count.",
          "$ref": "#/definitions/threshold_list"
        },
        "tts_ttfb": {
          "description": "TTS request to first audio, ms: p(N), avg, min, max, med, count.",
          "$ref": "#/definitions/threshold_list"
        },
        "wer": {
          "description": "Corpus word error rate of the agent's transcripts: value.",
          "$ref": "#/definitions/threshold_list"
        },
        "heard_wer": {
          "description": "Word error rate of what the caller heard: value.",
          "$ref": "#/definitions/threshold_list"
        },
        "silence_ratio": {
          "description": "Share of call time in dead air over 2 s: value.",
          "$ref": "#/definitions/threshold_list"
        },
        "task_completion": {
          "description": "Share of calls whose expectations all held: rate.",
          "$ref": "#/definitions/threshold_list"
        },
        "dropped_calls": {
          "description": "Calls that did not end normally: rate, count.",
          "$ref": "#/definitions/threshold_list"
        },
        "false_barge_ins": {
          "description": "The agent stopped although the caller did not speak: rate, count.",
          "$ref": "#/definitions/threshold_list"
        },
        "agent_cut_ins": {
          "description": "The agent began while the caller's utterance was unfinished: rate, count.",
          "$ref": "#/definitions/threshold_list"
        },
        "call_errors": {
          "description": "Calls dropped or with a provider error: rate, count.",
          "$ref": "#/definitions/threshold_list"
        },
        "tool_calls_executed": {
          "description": "Tool calls the agent ran (executed): count.",
          "$ref": "#/definitions/threshold_list"
        },
        "tool_calls_blocked": {
          "description": "Tool calls the guardrails blocked: count.",
          "$ref": "#/definitions/threshold_list"
        },
        "unsafe_tool_executions": {
          "description": "Tool calls that ran although undeclared, not allowed, or destructive without the caller's yes: count.",
          "$ref": "#/definitions/threshold_list"
        },
        "false_interruptions": {
          "description": "Barge-ins with no words after them, where the agent resumed: count.",
          "$ref": "#/definitions/threshold_list"
        }
      }
    },
    "seed": {
      "description": "The default seed of a run; --seed wins over it.",
      "type": "integer",
      "minimum": 0
    }
  },
  "allOf": [
    {
      "description": "turns is required, except with load.mix, where every call runs one of the mixed scenarios and turns is not allowed.",
      "if": {
        "required": [
          "load"
        ],
        "properties": {
          "load": {
            "required": [
              "mix"
            ]
          }
        }
      },
      "then": {
        "not": {
          "required": [
            "turns"
          ]
        }
      },
      "else": {
        "required": [
          "turns"
        ]
      }
    }
  ],
  "definitions": {
    "words": {
      "description": "Text with at least one word (letters or digits).",
      "type": "string",
      "pattern": "[A-Za-z0-9]"
    },
    "pipeline_ms": {
      "description": "A duration in the agent's pipeline, in ms.",
      "type": "number",
      "minimum": 0,
      "maximum": 60000
    },
    "link_ms": {
      "description": "A network delay, in ms.",
      "type": "number",
      "minimum": 0,
      "maximum": 60000
    },
    "probability": {
      "description": "A probability in [0, 1].",
      "type": "number",
      "minimum": 0,
      "maximum": 1
    },
    "positive_ms": {
      "description": "A duration in ms, more than 0.",
      "type": "number",
      "exclusiveMinimum": 0,
      "maximum": 86400000
    },
    "rate_per_s": {
      "description": "Calls per second.",
      "type": "number",
      "minimum": 0,
      "maximum": 1000000
    },
    "phase_duration_s": {
      "description": "How long the phase lasts, in s.",
      "type": "number",
      "exclusiveMinimum": 0,
      "maximum": 86400
    },
    "link": {
      "description": "One direction of the network.",
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "delay_ms": {
          "description": "One-way delay, in ms.",
          "$ref": "#/definitions/link_ms",
          "default": 20
        },
        "jitter_ms": {
          "description": "Spread of the delay, in ms (see jitter_distribution).",
          "$ref": "#/definitions/link_ms",
          "default": 0
        },
        "jitter_distribution": {
          "description": "How jitter is drawn: normal (stddev jitter_ms), uniform (+/- jitter_ms), exponential (mean jitter_ms, only later) or pareto (shape 2.5, mean jitter_ms: rare long spikes).",
          "type": "string",
          "enum": [
            "normal",
            "uniform",
            "exponential",
            "pareto"
          ],
          "default": "normal"
        },
        "loss": {
          "description": "Packet loss: a probability (Bernoulli), or { model: none | bernoulli | gilbert, ... }.",
          "$ref": "#/definitions/loss"
        },
        "reorder": {
          "description": "Probability that a packet is held back so later ones overtake it.",
          "$ref": "#/definitions/probability",
          "default": 0
        },
        "duplicate": {
          "description": "Probability that a packet is delivered twice.",
          "$ref": "#/definitions/probability",
          "default": 0
        },
        "outages": {
          "description": "Windows during which the link delivers nothing.",
          "title": "outages",
          "type": "array",
          "maxItems": 1000,
          "items": {
            "description": "One outage.",
            "type": "object",
            "additionalProperties": false,
            "required": [
              "duration_ms"
            ],
            "properties": {
              "start_ms": {
                "description": "When the outage starts, in ms after the call starts.",
                "type": "number",
                "minimum": 0,
                "maximum": 86400000,
                "default": 0
              },
              "duration_ms": {
                "description": "How long it lasts, in ms.",
                "$ref": "#/definitions/positive_ms"
              }
            }
          }
        }
      }
    },
    "loss": {
      "description": "A number is Bernoulli loss with that probability. A map names the model: bernoulli { rate } or gilbert { p, r, bad_loss, good_loss } (netem's Gilbert-Elliott: p = good -> bad, r = bad -> good, bad_loss = 1-h, good_loss = 1-k).",
      "type": [
        "number",
        "object"
      ],
      "minimum": 0,
      "maximum": 1,
      "additionalProperties": false,
      "required": [
        "model"
      ],
      "properties": {
        "model": {
          "description": "none | bernoulli | gilbert.",
          "type": "string",
          "enum": [
            "none",
            "bernoulli",
            "gilbert"
          ]
        },
        "rate": {
          "description": "bernoulli: the loss probability.",
          "$ref": "#/definitions/probability",
          "default": 0
        },
        "p": {
          "description": "gilbert: probability of going from the good to the bad state.",
          "$ref": "#/definitions/probability",
          "default": 0
        },
        "r": {
          "description": "gilbert: probability of going from the bad to the good state.",
          "$ref": "#/definitions/probability",
          "default": 1
        },
        "bad_loss": {
          "description": "gilbert: loss probability in the bad state (1 - h).",
          "$ref": "#/definitions/probability",
          "default": 1
        },
        "good_loss": {
          "description": "gilbert: loss probability in the good state (1 - k).",
          "$ref": "#/definitions/probability",
          "default": 0
        }
      },
      "allOf": [
        {
          "description": "rate applies only to model bernoulli.",
          "if": {
            "type": "object",
            "required": [
              "model"
            ],
            "not": {
              "properties": {
                "model": {
                  "const": "bernoulli"
                }
              }
            }
          },
          "then": {
            "not": {
              "required": [
                "rate"
              ]
            }
          }
        },
        {
          "description": "p, r, bad_loss and good_loss apply only to model gilbert.",
          "if": {
            "type": "object",
            "required": [
              "model"
            ],
            "not": {
              "properties": {
                "model": {
                  "const": "gilbert"
                }
              }
            }
          },
          "then": {
            "not": {
              "anyOf": [
                {
                  "required": [
                    "p"
                  ]
                },
                {
                  "required": [
                    "r"
                  ]
                },
                {
                  "required": [
                    "bad_loss"
                  ]
                },
                {
                  "required": [
                    "good_loss"
                  ]
                }
              ]
            }
          }
        }
      ]
    },
    "latency": {
      "description": "A latency distribution in ms: p50 <= p95 <= max (keys left out keep their defaults).",
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "p50": {
          "description": "Median, in ms.",
          "type": "number",
          "minimum": 0,
          "maximum": 600000
        },
        "p95": {
          "description": "95th percentile, in ms.",
          "type": "number",
          "minimum": 0,
          "maximum": 600000
        },
        "max": {
          "description": "Upper bound of every draw, in ms.",
          "type": "number",
          "exclusiveMinimum": 0,
          "maximum": 600000
        }
      }
    },
    "capacity": {
      "description": "A provider's capacity, shared by every call of a run: at most max_concurrent requests at once, up to queue more waiting (each at most queue_timeout_ms), beyond that a request fails at once; rate_limit_per_s rejects requests over the rate like an HTTP 429.",
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "max_concurrent": {
          "description": "Requests served at once; 0 is unlimited.",
          "type": "integer",
          "minimum": 0,
          "maximum": 1000000,
          "default": 0
        },
        "queue": {
          "description": "Requests that may wait for a free slot; needs max_concurrent > 0.",
          "type": "integer",
          "minimum": 0,
          "maximum": 1000000,
          "default": 0
        },
        "queue_timeout_ms": {
          "description": "The longest a queued request waits before it fails, in ms.",
          "type": "number",
          "minimum": 0,
          "maximum": 86400000,
          "default": 5000
        },
        "rate_limit_per_s": {
          "description": "Requests per second above which requests are rejected; 0 is no limit.",
          "type": "number",
          "minimum": 0,
          "maximum": 1000000,
          "default": 0
        }
      },
      "allOf": [
        {
          "description": "queue > 0 needs max_concurrent > 0 (with unlimited concurrency nothing ever waits).",
          "if": {
            "required": [
              "queue"
            ],
            "properties": {
              "queue": {
                "exclusiveMinimum": 0
              }
            }
          },
          "then": {
            "required": [
              "max_concurrent"
            ],
            "not": {
              "properties": {
                "max_concurrent": {
                  "const": 0
                }
              }
            }
          }
        }
      ]
    },
    "turn": {
      "description": "One step of the caller. At most one action (user, play, dtmf, silence, repeat, hangup); without one the caller waits for the agent.",
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "user": {
          "description": "Say these words through the word modem. [pause 900] between words makes a 900 ms pause inside the utterance.",
          "$ref": "#/definitions/words"
        },
        "play": {
          "description": "Play a recording as the caller's voice.",
          "type": "object",
          "additionalProperties": false,
          "required": [
            "file"
          ],
          "properties": {
            "file": {
              "description": "A WAV or FLAC file, relative to the scenario's folder.",
              "type": "string",
              "pattern": "\\.([Ww][Aa][Vv]|[Ff][Ll][Aa][Cc])$"
            },
            "transcript": {
              "description": "What the recording says, if known (the WER reference).",
              "type": "string"
            }
          }
        },
        "dtmf": {
          "description": "Press these telephone keys (RFC 4733 events): 0-9, *, #, A-D.",
          "type": "string",
          "minLength": 1,
          "maxLength": 100,
          "allOf": [
            {
              "description": "Telephone keys are 0-9, *, #, A-D.",
              "$comment": "Not a pattern such as ^[0-9*#A-D]+$: std::regex (in valijson) recurses once per repetition and overflows the stack on long input.",
              "not": {
                "pattern": "[^0-9*#A-D]"
              }
            }
          ]
        },
        "silence": {
          "description": "Stay silent, then go on without waiting for a reply.",
          "type": "object",
          "additionalProperties": false,
          "required": [
            "ms"
          ],
          "properties": {
            "ms": {
              "description": "How long, in ms.",
              "$ref": "#/definitions/positive_ms"
            }
          }
        },
        "repeat": {
          "description": "Ask the agent to repeat itself (says caller.repeat_phrase). Written repeat: {}.",
          "type": [
            "object",
            "null"
          ],
          "additionalProperties": false
        },
        "hangup": {
          "description": "Hang up; always the last turn. Written hangup: {}.",
          "type": [
            "object",
            "null"
          ],
          "additionalProperties": false
        },
        "pause_before_ms": {
          "description": "Extra wait before the caller acts, in ms.",
          "type": "number",
          "minimum": 0,
          "maximum": 86400000,
          "default": 0
        },
        "wait_for": {
          "description": "When the caller starts: after the previous reply ends (reply), or once the agent has a tool result for the previous request (tool_result, reference agent only).",
          "type": "string",
          "enum": [
            "reply",
            "tool_result"
          ],
          "default": "reply"
        },
        "barge_in": {
          "description": "Interrupt the agent instead of waiting for its reply to end: { after_agent_speech_ms: N } or { when_agent_says: \"phrase\" }. Only with user, play or repeat.",
          "type": "object",
          "additionalProperties": false,
          "properties": {
            "after_agent_speech_ms": {
              "description": "Start talking this long into the agent's reply, in ms.",
              "type": "number",
              "minimum": 0,
              "maximum": 86400000
            },
            "when_agent_says": {
              "description": "Start talking as soon as the caller hears this phrase (whole words).",
              "$ref": "#/definitions/words"
            }
          },
          "allOf": [
            {
              "description": "barge_in takes exactly one of after_agent_speech_ms and when_agent_says.",
              "oneOf": [
                {
                  "required": [
                    "after_agent_speech_ms"
                  ]
                },
                {
                  "required": [
                    "when_agent_says"
                  ]
                }
              ]
            }
          ]
        },
        "expect": {
          "description": "What must hold for this turn.",
          "title": "expectations",
          "type": "array",
          "maxItems": 100,
          "items": {
            "$ref": "#/definitions/expectation"
          }
        }
      },
      "allOf": [
        {
          "description": "A turn has at most one action: user, play, dtmf, silence, repeat or hangup.",
          "oneOf": [
            {
              "required": [
                "user"
              ]
            },
            {
              "required": [
                "play"
              ]
            },
            {
              "required": [
                "dtmf"
              ]
            },
            {
              "required": [
                "silence"
              ]
            },
            {
              "required": [
                "repeat"
              ]
            },
            {
              "required": [
                "hangup"
              ]
            },
            {
              "not": {
                "anyOf": [
                  {
                    "required": [
                      "user"
                    ]
                  },
                  {
                    "required": [
                      "play"
                    ]
                  },
                  {
                    "required": [
                      "dtmf"
                    ]
                  },
                  {
                    "required": [
                      "silence"
                    ]
                  },
                  {
                    "required": [
                      "repeat"
                    ]
                  },
                  {
                    "required": [
                      "hangup"
                    ]
                  }
                ]
              }
            }
          ]
        },
        {
          "description": "A turn needs an action or expect.",
          "anyOf": [
            {
              "required": [
                "user"
              ]
            },
            {
              "required": [
                "play"
              ]
            },
            {
              "required": [
                "dtmf"
              ]
            },
            {
              "required": [
                "silence"
              ]
            },
            {
              "required": [
                "repeat"
              ]
            },
            {
              "required": [
                "hangup"
              ]
            },
            {
              "required": [
                "expect"
              ]
            }
          ]
        },
        {
          "description": "barge_in needs user, play or repeat in the same turn.",
          "dependencies": {
            "barge_in": {
              "anyOf": [
                {
                  "required": [
                    "user"
                  ]
                },
                {
                  "required": [
                    "play"
                  ]
                },
                {
                  "required": [
                    "repeat"
                  ]
                }
              ]
            }
          }
        },
        {
          "description": "agent_stops needs barge_in in the same turn.",
          "if": {
            "required": [
              "expect"
            ],
            "properties": {
              "expect": {
                "contains": {
                  "required": [
                    "agent_stops"
                  ]
                }
              }
            }
          },
          "then": {
            "required": [
              "barge_in"
            ]
          }
        },
        {
          "description": "agent_repeats needs repeat in the same turn.",
          "if": {
            "required": [
              "expect"
            ],
            "properties": {
              "expect": {
                "contains": {
                  "required": [
                    "agent_repeats"
                  ]
                }
              }
            }
          },
          "then": {
            "required": [
              "repeat"
            ]
          }
        }
      ]
    },
    "expectation": {
      "description": "One expectation: a map with exactly one key.",
      "type": "object",
      "additionalProperties": false,
      "minProperties": 1,
      "maxProperties": 1,
      "properties": {
        "agent_says": {
          "description": "The reply heard by the caller contains a phrase (whole words) or matches a regex: { contains: \"...\" } or { matches: \"...\" }.",
          "type": "object",
          "additionalProperties": false,
          "properties": {
            "contains": {
              "description": "A phrase, matched on whole words after normalizing (lowercase, punctuation removed).",
              "$ref": "#/definitions/words"
            },
            "matches": {
              "description": "An ECMAScript regex, case-insensitive, searched in the normalized reply.",
              "type": "string",
              "minLength": 1,
              "maxLength": 1000
            }
          },
          "allOf": [
            {
              "description": "agent_says takes exactly one of contains and matches.",
              "oneOf": [
                {
                  "required": [
                    "contains"
                  ]
                },
                {
                  "required": [
                    "matches"
                  ]
                }
              ]
            }
          ]
        },
        "turn_latency": {
          "description": "Voice-to-voice latency at the caller's ear is at most max_ms.",
          "type": "object",
          "additionalProperties": false,
          "required": [
            "max_ms"
          ],
          "properties": {
            "max_ms": {
              "description": "The bound, in ms.",
              "$ref": "#/definitions/positive_ms"
            }
          }
        },
        "agent_stops": {
          "description": "Barge-in turns only: the agent's audio stops at the caller's ear within within_ms of the interruption.",
          "type": "object",
          "additionalProperties": false,
          "required": [
            "within_ms"
          ],
          "properties": {
            "within_ms": {
              "description": "The bound, in ms.",
              "$ref": "#/definitions/positive_ms"
            }
          }
        },
        "tool_call": {
          "description": "The agent calls this tool in this turn, with arguments that contain args.",
          "type": "object",
          "additionalProperties": false,
          "required": [
            "name"
          ],
          "properties": {
            "name": {
              "description": "The tool's name.",
              "type": "string",
              "minLength": 1
            },
            "args": {
              "description": "Fields the call's arguments must contain (any JSON values).",
              "type": "object"
            }
          }
        },
        "no_reply": {
          "description": "The agent stays silent for within_ms after the caller's action.",
          "type": "object",
          "additionalProperties": false,
          "required": [
            "within_ms"
          ],
          "properties": {
            "within_ms": {
              "description": "The silent window, in ms.",
              "$ref": "#/definitions/positive_ms"
            }
          }
        },
        "call_ends": {
          "description": "The call ends in this turn, ended by the caller, the agent or a transfer.",
          "type": "object",
          "additionalProperties": false,
          "required": [
            "by"
          ],
          "properties": {
            "by": {
              "description": "caller | agent | transfer.",
              "type": "string",
              "enum": [
                "caller",
                "agent",
                "transfer"
              ]
            }
          }
        },
        "agent_repeats": {
          "description": "Repeat turns only: the agent says its previous reply again. Written agent_repeats: {}.",
          "type": [
            "object",
            "null"
          ],
          "additionalProperties": false
        }
      }
    },
    "phase": {
      "description": "One arrival phase: a map with exactly one key, constant, ramp or poisson.",
      "type": "object",
      "additionalProperties": false,
      "minProperties": 1,
      "maxProperties": 1,
      "properties": {
        "constant": {
          "description": "Evenly spaced arrivals at rate_per_s.",
          "type": "object",
          "additionalProperties": false,
          "required": [
            "rate_per_s",
            "duration_s"
          ],
          "properties": {
            "rate_per_s": {
              "description": "Calls per second.",
              "$ref": "#/definitions/rate_per_s"
            },
            "duration_s": {
              "description": "How long the phase lasts, in s.",
              "$ref": "#/definitions/phase_duration_s"
            }
          }
        },
        "ramp": {
          "description": "The rate goes linearly from from_rate_per_s to to_rate_per_s.",
          "type": "object",
          "additionalProperties": false,
          "required": [
            "from_rate_per_s",
            "to_rate_per_s",
            "duration_s"
          ],
          "properties": {
            "from_rate_per_s": {
              "description": "Calls per second at the start.",
              "$ref": "#/definitions/rate_per_s"
            },
            "to_rate_per_s": {
              "description": "Calls per second at the end.",
              "$ref": "#/definitions/rate_per_s"
            },
            "duration_s": {
              "description": "How long the phase lasts, in s.",
              "$ref": "#/definitions/phase_duration_s"
            }
          }
        },
        "poisson": {
          "description": "Exponential gaps with mean 1/rate_per_s (seeded).",
          "type": "object",
          "additionalProperties": false,
          "required": [
            "rate_per_s",
            "duration_s"
          ],
          "properties": {
            "rate_per_s": {
              "description": "Mean calls per second.",
              "$ref": "#/definitions/rate_per_s"
            },
            "duration_s": {
              "description": "How long the phase lasts, in s.",
              "$ref": "#/definitions/phase_duration_s"
            }
          }
        }
      }
    },
    "threshold_list": {
      "description": "Expressions that must all hold, e.g. [\"p(95)<1200\"].",
      "title": "expressions",
      "type": "array",
      "minItems": 1,
      "maxItems": 100,
      "items": {
        "description": "AGGREGATE OP NUMBER: p(N), avg, min, max, med, value, rate or count; <, <=, >, >=, == or !=.",
        "type": "string"
      }
    },
    "fault_outages": {
      "description": "Windows of run time during which every request fails (\"unavailable\").",
      "type": "array",
      "maxItems": 1000,
      "items": {
        "description": "One outage.",
        "type": "object",
        "additionalProperties": false,
        "required": [
          "duration_ms"
        ],
        "properties": {
          "start_ms": {
            "description": "When it starts, in ms after the run starts.",
            "type": "number",
            "minimum": 0,
            "maximum": 86400000,
            "default": 0
          },
          "duration_ms": {
            "description": "How long it lasts, in ms.",
            "$ref": "#/definitions/positive_ms"
          }
        }
      }
    },
    "faults": {
      "description": "Faults injected into a fake provider.",
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "error_rate": {
          "description": "Share of requests that fail with an error.",
          "$ref": "#/definitions/probability"
        },
        "timeout_rate": {
          "description": "Share of requests that never answer.",
          "$ref": "#/definitions/probability"
        },
        "drop_rate": {
          "description": "Share of streams that stop part way, with neither an end nor an error.",
          "$ref": "#/definitions/probability"
        },
        "outages": {
          "description": "Provider outages.",
          "$ref": "#/definitions/fault_outages"
        }
      }
    },
    "secondary": {
      "description": "A secondary provider the agent fails over to: the same fake, with its own faults.",
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "faults": {
          "description": "Faults of the secondary.",
          "$ref": "#/definitions/faults"
        }
      }
    },
    "tool_backend": {
      "description": "A fake tool back end.",
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "latency_ms": {
          "description": "Time to answer, in ms.",
          "$ref": "#/definitions/latency"
        },
        "error_rate": {
          "description": "Share of calls that fail.",
          "$ref": "#/definitions/probability"
        },
        "timeout_rate": {
          "description": "Share of calls that never answer (the tool's timeout ends them).",
          "$ref": "#/definitions/probability"
        },
        "outages": {
          "description": "Back-end outages.",
          "$ref": "#/definitions/fault_outages"
        }
      }
    }
  }
}
)schema_json";
  return kText;
}

}  // namespace callsim::harness
