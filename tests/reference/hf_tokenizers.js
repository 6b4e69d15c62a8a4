#!/usr/bin/env node
// The reference for tests/unit/hf_tokenizer_test.cpp: Hugging Face's own
// tokenizers library (pinned in package-lock.json) trains tokenizers on real
// text, saves them as people get them from the Hub, and writes the ids it
// gives for texts it was not trained on.
//
//   node tests/reference/hf_tokenizers.js OUTDIR
//
// OUTDIR receives:
//   wordpiece/tokenizer.json  BERT-like: BertNormalizer (lowercase), BertPreTokenizer, [CLS] $A [SEP]
//   bpe/tokenizer.json        RoBERTa-like byte-level BPE, merges as [a, b] pairs
//   bpe-legacy/tokenizer.json the same with merges as "a b" strings, as older files have them, and add_prefix_space
//   unigram/tokenizer.json    NFKC + Metaspace + Unigram, <s> $A </s>
//   llama/tokenizer.json      Llama-like BPE: Prepend + Replace, no pre-tokenizer, byte fallback
//   wordlevel/tokenizer.json  WordLevel behind Lowercase, WhitespaceSplit, Split("-") and Punctuation
//   unigram-first/tokenizer.json the Unigram with Metaspace's prepend_scheme "first"
//   precompiled/tokenizer.json the Unigram behind sentencepiece's compiled nmt_nfkc rules (T5, ALBERT, XLM-R)
//   variety/tokenizer.json    the WordPiece model behind other normalizers and pre-tokenizers
//   bert-vocab/vocab.txt      the WordPiece's vocabulary alone, as BERT checkpoints have it
//   gpt2/vocab.json, gpt2/merges.txt  the BPE's, as GPT-2 and RoBERTa checkpoints have them
//   expected.json             {texts: [...], tokenizers: {name: {ids, plain, decoded}}}
//
// The default trainers of the Node binding (it exports no trainer constructors)
// know no special tokens, so each trained model is laid out again the way the
// Hub's files are: the special tokens first in the vocabulary, then added as
// special tokens, and the decoders and post-processors set.
"use strict";
const fs = require("fs");
const path = require("path");
const { execFileSync } = require("child_process");
const tk = require("tokenizers");

const out = process.argv[2];
if (!out) {
    console.error("usage: node hf_tokenizers.js OUTDIR");
    process.exit(2);
}
fs.mkdirSync(out, { recursive: true });

// ---- text: fortunes in English, German, Spanish and Italian ------------------
const FORTUNES = "/usr/share/games/fortunes";
const utf8 = new TextDecoder("utf-8", { fatal: true });

function fortunes(dir) {
    const seen = new Set();
    const all = [];
    for (const name of fs.readdirSync(dir).sort()) {
        if (name.endsWith(".dat") || name.endsWith(".u8") || name.startsWith(".")) continue;
        let file = path.join(dir, name);
        if (fs.existsSync(file + ".u8")) file += ".u8";  // the UTF-8 copy of an ISO-8859 file
        if (!fs.statSync(file).isFile()) continue;
        const real = fs.realpathSync(file);
        if (seen.has(real)) continue;
        seen.add(real);
        let text;
        try {
            text = utf8.decode(fs.readFileSync(real));
        } catch {
            continue;  // not UTF-8
        }
        for (const f of text.split(/^%$/m)) {
            const t = f.replace(/^\n/, "").replace(/\n$/, "");
            if (t.trim()) all.push(t);
        }
    }
    return all;
}

const languages = { en: FORTUNES, de: `${FORTUNES}/de`, es: `${FORTUNES}/es`, it: `${FORTUNES}/it` };
const train = [];
const texts = [];
for (const [lang, dir] of Object.entries(languages)) {
    const all = fortunes(dir);
    if (all.length < 1000) throw new Error(`only ${all.length} fortunes in ${dir} (${lang})`);
    // Every fourth fortune is held out; 300 of them, spread over the files, are tested.
    const held = all.filter((_, i) => i % 4 === 3);
    all.filter((_, i) => i % 4 !== 3).forEach((t) => train.push(t));
    const step = held.length / 300;
    for (let k = 0; k < 300; ++k) texts.push(held[Math.floor(k * step)]);
}
texts.push(
    "hello [SEP] world",
    "[CLS] already there [SEP]",
    "a [MASK] in the middle, [mask] lowercased, [UNK]",
    "The <mask> sat on the <mask>.",
    "<s>starts</s> and <pad> pads <unk>",
    "no<mask>spaces<s>around",
    "Family: 👨‍👩‍👧‍👦, flags: 🇩🇪🇪🇸🇮🇹, thumbs 👍🏽 and ❤️",
    "combining: cafe\u0301 nai\u0308ve Cre\u0300me Bru\u0302le\u0301e vs café naïve",
    "non\u00a0breaking\u00a0space and\u2009thin\u2003em\u3000ideographic",
    "tabs\there\t\tand\tthere",
    "windows\r\nline\r\nends\r\n",
    "multiple    spaces   between     words   ",
    "   leading and trailing   ",
    "漢字とひらがなとカタカナ、中文字符，한국어 텍스트",
    "Ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３ and ligatures ﬁne ﬂow ½ ²",
    "ÀÉÎÕÜ àéîõü ß ẞ Ǆ ǅ ǆ İstanbul ΣΊΣΥΦΟΣ",
    "numbers 3.14159, 1,000,000 and 2024-01-31 at 12:30:45",
    "e-mail someone@example.com or https://example.org/path?q=1&r=2",
    "it's they're we've I'm you'll he'd DON'T",
    "control\u0000chars\u0007and\u001bescape\u200bzero\u200dwidth\ufeffbom",
    "supercalifragilisticexpialidocious " + "x".repeat(120),
    "",
    " ",
    "\n\n",
    "a",
    "¿Qué? ¡Olé! «Guillemets» „Anführungszeichen“ ‚einfach‘ — dash – dash … ellipsis",
    "Ärger über Öl, Äpfel und Übermut; Straße, Maß",
    "Mathematical 𝐀𝐁𝐂 𝔸𝔹ℂ and Greek αβγ Δ ω, Cyrillic привет мир",
    "ﷺ ﷽ Arabic مرحبا بالعالم and Hebrew שלום",
    "emoji at word edges:🙂smile🙂 and 👍.",
);
for (const t of texts) if (typeof t !== "string") throw new Error("a test text is missing");

const trainFile = path.join(out, "train.txt");
fs.writeFileSync(trainFile, train.join("\n"));
// Unigram's trainer takes minutes over all of it; a fifth gives its 8,000 pieces.
const smallTrainFile = path.join(out, "train-small.txt");
fs.writeFileSync(smallTrainFile, train.filter((_, i) => i % 5 === 0).join("\n"));

// ---- helpers -------------------------------------------------------------------
function save(tokenizer, name) {
    fs.mkdirSync(path.join(out, name), { recursive: true });
    const file = path.join(out, name, "tokenizer.json");
    tokenizer.save(file, true);
    return file;
}

// Trains `model` behind the normalizer and pre-tokenizer, and returns the
// saved JSON of the trained tokenizer.
function trained(model, normalizer, preTokenizer, file = trainFile) {
    const t = new tk.Tokenizer(model);
    if (normalizer) t.setNormalizer(normalizer);
    t.setPreTokenizer(preTokenizer);
    t.train([file]);
    return JSON.parse(saveString(t));
}
function saveString(t) {
    const tmp = path.join(out, "tmp.json");
    t.save(tmp, false);
    const s = fs.readFileSync(tmp, "utf8");
    fs.unlinkSync(tmp);
    return s;
}

// A vocabulary map with `specials` first and the trained tokens after, in order.
function specialsFirst(vocab, specials, extra = []) {
    const byId = Object.entries(vocab).sort((a, b) => a[1] - b[1]).map(([t]) => t);
    const tokens = [...specials, ...byId.filter((t) => !specials.includes(t)), ...extra.filter((t) => !(t in vocab))];
    const map = {};
    tokens.forEach((t, i) => (map[t] = i));
    return map;
}

function addSpecials(tokenizer, tokens, options = {}) {
    tokenizer.addAddedTokens(tokens.map((t) => new tk.AddedToken(t, true, options[t] || {})));
}

const tokenizers = {};

// ---- BERT-like WordPiece -----------------------------------------------------
const BERT = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];
{
    const j = trained(tk.WordPiece.init({}, { unkToken: "[UNK]" }), tk.bertNormalizer({ lowercase: true }), tk.bertPreTokenizer());
    j.model.vocab = specialsFirst(j.model.vocab, BERT);
    j.decoder = { type: "WordPiece", prefix: "##", cleanup: true };
    const t = tk.Tokenizer.fromString(JSON.stringify(j));
    t.setPostProcessor(tk.templateProcessing("[CLS] $A [SEP]", "[CLS] $A [SEP] $B:1 [SEP]:1", [["[CLS]", 2], ["[SEP]", 3]]));
    addSpecials(t, BERT);
    tokenizers.wordpiece = save(t, "wordpiece");

    // The same vocabulary as vocab.txt, read the way transformers' BertTokenizerFast reads it.
    const vocab = JSON.parse(fs.readFileSync(tokenizers.wordpiece, "utf8")).model.vocab;
    const lines = Object.entries(vocab).sort((a, b) => a[1] - b[1]).map(([tok]) => tok);
    fs.mkdirSync(path.join(out, "bert-vocab"), { recursive: true });
    fs.writeFileSync(path.join(out, "bert-vocab", "vocab.txt"), lines.join("\n") + "\n");
}

// ---- RoBERTa-like byte-level BPE ---------------------------------------------
const ROBERTA = ["<s>", "<pad>", "</s>", "<unk>"];
{
    const j = trained(tk.BPE.empty(), null, tk.byteLevelPreTokenizer(false));
    // Every byte is in the vocabulary, as in GPT-2's: text never meets an unknown one.
    j.model.vocab = specialsFirst(j.model.vocab, ROBERTA, [...tk.byteLevelAlphabet(), "<mask>"]);
    j.decoder = { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true };
    const t = tk.Tokenizer.fromString(JSON.stringify(j));
    const v = j.model.vocab;
    t.setPostProcessor(tk.robertaProcessing(["</s>", v["</s>"]], ["<s>", v["<s>"]], true, false));
    addSpecials(t, [...ROBERTA, "<mask>"], { "<mask>": { leftStrip: true } });
    tokenizers.bpe = save(t, "bpe");

    const saved = JSON.parse(fs.readFileSync(tokenizers.bpe, "utf8"));
    if (!Array.isArray(saved.model.merges[0])) throw new Error("expected merges saved as pairs");
    const legacy = JSON.parse(JSON.stringify(saved));
    legacy.model.merges = saved.model.merges.map((m) => m.join(" "));
    legacy.pre_tokenizer.add_prefix_space = true;  // and the other setting of the pre-tokenizer
    fs.mkdirSync(path.join(out, "bpe-legacy"), { recursive: true });
    tokenizers["bpe-legacy"] = path.join(out, "bpe-legacy", "tokenizer.json");
    fs.writeFileSync(tokenizers["bpe-legacy"], JSON.stringify(legacy, null, 2));

    fs.mkdirSync(path.join(out, "gpt2"), { recursive: true });
    fs.writeFileSync(path.join(out, "gpt2", "vocab.json"), JSON.stringify(saved.model.vocab));
    fs.writeFileSync(path.join(out, "gpt2", "merges.txt"), "#version: 0.2\n" + legacy.model.merges.join("\n") + "\n");
}

// ---- Unigram, sentencepiece-like ---------------------------------------------
const UNIGRAM = ["<pad>", "<s>", "</s>", "<unk>", "<mask>"];
{
    const j = trained(tk.Unigram.empty(), tk.nfkcNormalizer(), tk.metaspacePreTokenizer(), smallTrainFile);
    const trainedVocab = j.model.vocab.filter(([p]) => !UNIGRAM.includes(p));
    j.model.vocab = [...UNIGRAM.map((p) => [p, 0.0]), ...trainedVocab];
    j.model.unk_id = 3;
    j.decoder = { type: "Metaspace", replacement: "▁", prepend_scheme: "always", split: true };
    const t = tk.Tokenizer.fromString(JSON.stringify(j));
    t.setPostProcessor(tk.templateProcessing("<s> $A </s>", "<s> $A </s> </s> $B </s>", [["<s>", 1], ["</s>", 2]]));
    addSpecials(t, UNIGRAM);
    tokenizers.unigram = save(t, "unigram");
}

// ---- Llama-like BPE: sentencepiece's spaces, byte fallback, no pre-tokenizer ----
// As transformers converts Llama's and Mistral's .model files: the whole
// text is one word, unknown characters are spelled in <0xAB> byte tokens.
const LLAMA = ["<unk>", "<s>", "</s>"];
{
    const j = trained(tk.BPE.empty(), null, tk.metaspacePreTokenizer("\u2581", "first", true), smallTrainFile);
    const bytes = [...Array(256).keys()].map((b) => `<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
    j.model.vocab = specialsFirst(j.model.vocab, [...LLAMA, ...bytes]);
    Object.assign(j.model, { unk_token: "<unk>", byte_fallback: true, fuse_unk: true });
    j.normalizer = { type: "Sequence", normalizers: [{ type: "Prepend", prepend: "\u2581" },
        { type: "Replace", pattern: { String: " " }, content: "\u2581" }] };
    j.pre_tokenizer = null;
    j.decoder = { type: "Sequence", decoders: [{ type: "Replace", pattern: { String: "\u2581" }, content: " " },
        { type: "ByteFallback" }, { type: "Fuse" }, { type: "Strip", content: " ", start: 1, stop: 0 }] };
    const t = tk.Tokenizer.fromString(JSON.stringify(j));
    t.setPostProcessor(tk.templateProcessing("<s> $A", "<s> $A <s> $B", [["<s>", 1]]));
    addSpecials(t, LLAMA);
    tokenizers.llama = save(t, "llama");
}

// ---- Unigram behind sentencepiece's compiled normalization rules ---------------
// As transformers converts T5's, ALBERT's and XLM-R's .model files: the
// charsmap of sentencepiece's nmt_nfkc rules (taken from a .model that
// Debian's spm_train writes), then Strip and Replace(" {2,}").
{
    const prefix = path.join(out, "spm");
    execFileSync("spm_train", [`--input=${smallTrainFile}`, `--model_prefix=${prefix}`, "--vocab_size=300",
        "--normalization_rule_name=nmt_nfkc", "--minloglevel=2"], { stdio: ["ignore", "ignore", "inherit"] });
    const charsmap = field(field(fs.readFileSync(prefix + ".model"), 3), 2);  // ModelProto.normalizer_spec.precompiled_charsmap
    for (const ext of [".model", ".vocab"]) fs.unlinkSync(prefix + ext);
    const j = JSON.parse(fs.readFileSync(tokenizers.unigram, "utf8"));
    j.normalizer = {
        type: "Sequence",
        normalizers: [{ type: "Precompiled", precompiled_charsmap: charsmap.toString("base64") },
            { type: "Strip", strip_left: false, strip_right: true }, { type: "Replace", pattern: { Regex: " {2,}" }, content: "\u2581" }],
    };
    tokenizers.precompiled = save(tk.Tokenizer.fromString(JSON.stringify(j)), "precompiled");
}

// The bytes of the first length-delimited field `number` of a protobuf message.
function field(buf, number) {
    let i = 0;
    const varint = () => {
        let v = 0, shift = 1;
        for (;;) {
            const b = buf[i++];
            v += (b & 0x7f) * shift;
            shift *= 128;
            if (b < 0x80) return v;
        }
    };
    while (i < buf.length) {
        const key = varint(), wire = key % 8;
        if (wire === 0) varint();
        else if (wire === 1) i += 8;
        else if (wire === 5) i += 4;
        else if (wire === 2) {
            const n = varint();
            if (Math.floor(key / 8) === number) return buf.subarray(i, i + n);
            i += n;
        } else throw new Error(`unexpected protobuf wire type ${wire}`);
    }
    throw new Error(`no protobuf field ${number}`);
}

// ---- WordLevel, and Unigram with Metaspace's prepend_scheme "first" ----------
{
    const j = trained(tk.WordLevel.empty(), tk.lowercase(), tk.whitespaceSplitPreTokenizer());
    j.model.vocab = specialsFirst(j.model.vocab, ["[UNK]", "[PAD]"]);
    j.model.unk_token = "[UNK]";
    j.pre_tokenizer = { type: "Sequence", pretokenizers: [{ type: "WhitespaceSplit" },
        { type: "Split", pattern: { String: "-" }, behavior: "MergedWithPrevious", invert: false },
        { type: "Punctuation", behavior: "Contiguous" }] };
    tokenizers.wordlevel = save(tk.Tokenizer.fromString(JSON.stringify(j)), "wordlevel");

    const u = JSON.parse(fs.readFileSync(tokenizers.unigram, "utf8"));
    u.pre_tokenizer = { type: "Metaspace", replacement: "\u2581", prepend_scheme: "first", split: true };
    u.decoder = { type: "Metaspace", replacement: "\u2581", prepend_scheme: "first", split: true };
    tokenizers["unigram-first"] = save(tk.Tokenizer.fromString(JSON.stringify(u)), "unigram-first");
}

// ---- the WordPiece model behind other components -----------------------------
{
    const j = JSON.parse(fs.readFileSync(tokenizers.wordpiece, "utf8"));
    j.normalizer = {
        type: "Sequence",
        normalizers: [{ type: "NFD" }, { type: "StripAccents" }, { type: "Lowercase" }, { type: "Strip", strip_left: true, strip_right: true },
            { type: "Replace", pattern: { String: "``" }, content: "\"" }, { type: "NFC" }],
    };
    j.pre_tokenizer = {
        type: "Sequence",
        pretokenizers: [{ type: "WhitespaceSplit" }, { type: "Digits", individual_digits: true }, { type: "Punctuation", behavior: "Isolated" },
            { type: "Whitespace" }],
    };
    j.post_processor = { type: "BertProcessing", sep: ["[SEP]", 3], cls: ["[CLS]", 2] };
    const t = tk.Tokenizer.fromString(JSON.stringify(j));
    tokenizers.variety = save(t, "variety");
}

// ---- expected ids --------------------------------------------------------------
async function reference(file) {
    const t = tk.Tokenizer.fromFile(file);
    const ids = [], plain = [], decoded = [];
    for (const text of texts) {
        ids.push((await t.encode(text)).getIds());
        plain.push((await t.encode(text, null, { addSpecialTokens: false })).getIds());
    }
    for (let i = 0; i < texts.length; i += 7) decoded.push([i, await t.decode(ids[i], true)]);
    return { ids, plain, decoded, size: t.getVocabSize(true) };
}

// The vocab.txt and vocab.json + merges.txt pipelines, as transformers' fast tokenizers build them.
async function bertFromVocab() {
    const t = new tk.Tokenizer(await tk.WordPiece.fromFile(path.join(out, "bert-vocab", "vocab.txt"), { unkToken: "[UNK]" }));
    t.setNormalizer(tk.bertNormalizer({ lowercase: true, stripAccents: undefined }));
    t.setPreTokenizer(tk.bertPreTokenizer());
    t.setPostProcessor(tk.templateProcessing("[CLS] $A [SEP]", "[CLS] $A [SEP] $B:1 [SEP]:1", [["[CLS]", 2], ["[SEP]", 3]]));
    t.setDecoder(tk.wordPieceDecoder("##", true));
    addSpecials(t, BERT);
    return save(t, "bert-vocab-reference");
}
async function gpt2FromFiles() {
    const t = new tk.Tokenizer(await tk.BPE.fromFile(path.join(out, "gpt2", "vocab.json"), path.join(out, "gpt2", "merges.txt")));
    t.setPreTokenizer(tk.byteLevelPreTokenizer(false));
    const j = JSON.parse(saveString(t));
    j.decoder = { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true };
    const u = tk.Tokenizer.fromString(JSON.stringify(j));
    u.setPostProcessor(tk.templateProcessing("<s> $A </s>", "<s> $A </s> </s> $B </s>", [["<s>", 0], ["</s>", 2]]));
    addSpecials(u, [...ROBERTA, "<mask>"]);
    return save(u, "gpt2-reference");
}

(async () => {
    const result = { texts, tokenizers: {} };
    for (const [name, file] of Object.entries(tokenizers)) result.tokenizers[name] = await reference(file);
    result.tokenizers["bert-vocab"] = await reference(await bertFromVocab());
    result.tokenizers["gpt2"] = await reference(await gpt2FromFiles());
    fs.writeFileSync(path.join(out, "expected.json"), JSON.stringify(result));
    fs.unlinkSync(trainFile);
    fs.unlinkSync(smallTrainFile);
})().catch((e) => {
    console.error(e);
    process.exit(1);
});
