// The language server's protocol logic, driven without a process: positions
// and URIs, message framing, each request on the examples and on half-typed
// text, and every request on every prefix of every example (it must never
// fail or crash on broken text). editor/vscode/test drives a real `pipe lsp`.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <tuple>

#include "interpreter/plan.h"
#include "lsp/context.h"
#include "lsp/server.h"
#include "pipe_cli.h"
#include "stdlib/doc.h"
#include "test_files.h"

namespace pipelang::lsp {
namespace {

using testing::readFile;

// ---- positions, URIs, framing ----------------------------------------------

TEST(LspPositions, Utf16ColumnsAndBack) {
    // `é` is 2 bytes and 1 UTF-16 unit; `😀` is 4 bytes and 2 units; CRLF ends a line.
    SourceFile f("x.pipe", "let a = \"é😀x\"\r\nseed 1\n");
    uint32_t x = uint32_t(f.text.find('x'));
    Position p = toPosition(f, x);
    EXPECT_EQ(p.line, 0);
    EXPECT_EQ(p.character, 9 + 1 + 2);
    EXPECT_EQ(toOffset(f, p), x);
    EXPECT_EQ(toOffset(f, {0, 10}), f.text.find("😀"));
    EXPECT_EQ(toPosition(f, uint32_t(f.text.find("seed"))).line, 1);
    EXPECT_EQ(toOffset(f, {1, 0}), f.text.find("seed"));
    // Past the end of a line stops before its line break; past the last line, the end of the file.
    EXPECT_EQ(toOffset(f, {0, 999}), f.text.find('\r'));
    EXPECT_EQ(toOffset(f, {9, 0}), f.text.size());
    EXPECT_EQ(toOffset(f, {-1, 3}), 0u);
    EXPECT_EQ(toPosition(f, 9999).line, 2);
}

TEST(LspUris, FileUrisRoundTrip) {
    EXPECT_EQ(uriToPath("file:///tmp/a%20b/c.pipe"), "/tmp/a b/c.pipe");
    EXPECT_EQ(pathToUri("/tmp/a b/c.pipe"), "file:///tmp/a%20b/c.pipe");
    EXPECT_EQ(uriToPath(pathToUri("/tmp/é #x.pipe")), "/tmp/é #x.pipe");
    EXPECT_EQ(uriToPath("untitled:Untitled-1"), "untitled:Untitled-1");
}

TEST(LspFraming, ReadsWhatItWritesAndStopsOnBadHeaders) {
    std::stringstream s;
    writeMessage(s, R"({"a":1})");
    writeMessage(s, "{}");
    s << "Content-Type: application/vscode-jsonrpc; charset=utf-8\r\nContent-Length: 2\r\n\r\n[]";
    EXPECT_EQ(readMessage(s), R"({"a":1})");
    EXPECT_EQ(readMessage(s), "{}");
    EXPECT_EQ(readMessage(s), "[]");
    EXPECT_EQ(readMessage(s), std::nullopt);
    std::stringstream bad("Content-Length: x\r\n\r\n{}");
    EXPECT_EQ(readMessage(bad), std::nullopt);
    std::stringstream shortBody("Content-Length: 10\r\n\r\n{}");
    EXPECT_EQ(readMessage(shortBody), std::nullopt);
}

// ---- the server ------------------------------------------------------------

class Session {
public:
    Session() {
        auto r = call("initialize", {{"capabilities", json::object()}});
        EXPECT_TRUE(r.contains("result")) << r;
        server.handle(json{{"jsonrpc", "2.0"}, {"method", "initialized"}, {"params", json::object()}});
    }
    json call(const std::string& method, json params) {
        auto out = server.handle(json{{"jsonrpc", "2.0"}, {"id", ++id}, {"method", method}, {"params", params}});
        EXPECT_EQ(out.size(), 1u);
        return out.empty() ? json() : out[0];
    }
    // Opens `text` (the cursor marked `|` is taken out) and returns the published diagnostics.
    json open(const std::string& uri, std::string text) {
        if (auto bar = text.find('|'); bar != std::string::npos) {
            cursor = toPosition(SourceFile("", text), uint32_t(bar));
            text.erase(bar, 1);
        }
        auto out = server.handle(json{{"jsonrpc", "2.0"},
                                      {"method", "textDocument/didOpen"},
                                      {"params", {{"textDocument", {{"uri", uri}, {"text", text}, {"version", 1}}}}}});
        EXPECT_EQ(out.size(), 1u);
        return out.empty() ? json() : out[0]["params"]["diagnostics"];
    }
    json at(const std::string& method, const std::string& uri, Position p) {
        return call(method, {{"textDocument", {{"uri", uri}}}, {"position", toJson(p)}})["result"];
    }
    json at(const std::string& method, const std::string& uri) { return at(method, uri, cursor); }

    Server server;
    Position cursor;
    int id = 0;
};

std::vector<std::string> labels(const json& items) {
    std::vector<std::string> out;
    for (const auto& i : items) out.push_back(i["label"]);
    return out;
}

bool has(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

const std::string kDir = PIPE_SOURCE_DIR "/examples/";
const std::string kUri = pathToUri(kDir + "t.pipe");

TEST(LspServer, LifecycleAndErrors) {
    Server s;
    auto r = s.handle(json{{"jsonrpc", "2.0"}, {"id", 1}, {"method", "textDocument/hover"}, {"params", {}}});
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0]["error"]["code"], -32002);  // not initialized
    r = s.handleText(R"({"jsonrpc":"2.0","id":2,"method":"initialize","params":{}})");
    EXPECT_TRUE(r[0]["result"]["capabilities"]["hoverProvider"].get<bool>());
    EXPECT_EQ(r[0]["result"]["capabilities"]["textDocumentSync"]["change"], 1);
    r = s.handleText("{not json");
    EXPECT_EQ(r[0]["error"]["code"], -32700);
    // A message nested past the limit is refused whole (300,000 levels used to overflow the stack).
    std::string deep = std::string(300000, '[') + std::string(300000, ']');
    r = s.handleText(R"({"jsonrpc":"2.0","id":9,"method":"textDocument/hover","params":)" + deep + "}");
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0]["error"]["code"], -32700);
    EXPECT_EQ(r[0]["error"]["message"], "the message nests deeper than 100 levels");
    auto nested = [](int levels) {
        return R"({"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":)" + std::string(size_t(levels), '[') +
               std::string(size_t(levels), ']') + "}}";
    };
    EXPECT_TRUE(s.handleText(nested(kMaxMessageNesting - 2)).empty());  // at the limit: handled (a notification)
    r = s.handleText(nested(kMaxMessageNesting - 1));                   // the message, its params, then the arrays
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0]["error"]["code"], -32700);
    r = s.handleText(R"({"jsonrpc":"2.0","id":3,"method":"workspace/symbol","params":{}})");
    EXPECT_EQ(r[0]["error"]["code"], -32601);
    r = s.handleText(
        R"({"jsonrpc":"2.0","id":4,"method":"textDocument/hover","params":{"textDocument":{"uri":"file:///nowhere.pipe"},"position":{"line":0,"character":0}}})");
    EXPECT_EQ(r[0]["error"]["code"], -32602);
    r = s.handleText(R"({"jsonrpc":"2.0","id":5,"method":"textDocument/hover","params":{"textDocument":7}})");
    EXPECT_EQ(r[0]["error"]["code"], -32602);
    EXPECT_TRUE(s.handleText(R"({"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":1}})").empty());
    EXPECT_TRUE(s.handleText(R"({"jsonrpc":"2.0","method":"textDocument/didOpen","params":{}})").empty());
    r = s.handleText(R"({"jsonrpc":"2.0","id":6,"method":"shutdown"})");
    EXPECT_TRUE(r[0]["result"].is_null());
    r = s.handleText(R"({"jsonrpc":"2.0","id":7,"method":"textDocument/hover","params":{}})");
    EXPECT_EQ(r[0]["error"]["code"], -32600);
    EXPECT_FALSE(s.exited());
    s.handleText(R"({"jsonrpc":"2.0","method":"exit"})");
    EXPECT_TRUE(s.exited());
    EXPECT_EQ(s.exitCode(), 0);
    Server abrupt;
    abrupt.handleText(R"({"jsonrpc":"2.0","method":"exit"})");
    EXPECT_EQ(abrupt.exitCode(), 1);  // exit without shutdown
}

TEST(LspServer, DiagnosticsAreTheCheckersAndFollowChanges) {
    Session s;
    auto d = s.open(kUri, "train { optimizer = adamx(lr = 3e-3) }\n");
    ASSERT_FALSE(d.empty());
    const json* unknown = nullptr;
    for (const auto& item : d)
        if (item["code"] == "unknown-builtin") unknown = &item;
    ASSERT_NE(unknown, nullptr) << d;
    EXPECT_EQ((*unknown)["severity"], 1);
    EXPECT_EQ((*unknown)["range"]["start"], toJson({0, 20}));
    EXPECT_EQ((*unknown)["range"]["end"], toJson({0, 25}));
    EXPECT_NE((*unknown)["message"].get<std::string>().find("hint: did you mean `adamw`?"), std::string::npos);
    // A full-text change replaces the document; closing clears its diagnostics.
    auto out = s.server.handle(json{{"jsonrpc", "2.0"},
                                    {"method", "textDocument/didChange"},
                                    {"params",
                                     {{"textDocument", {{"uri", kUri}, {"version", 2}}},
                                      {"contentChanges", {{{"text", readFile(kDir + "fashion.pipe")}}}}}}});
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0]["params"]["diagnostics"], json::array());
    out = s.server.handle(
        json{{"jsonrpc", "2.0"}, {"method", "textDocument/didClose"}, {"params", {{"textDocument", {{"uri", kUri}}}}}});
    EXPECT_EQ(out[0]["params"]["diagnostics"], json::array());
    EXPECT_EQ(s.server.document(kUri), nullptr);
}

// A diagnostic that knows its edit offers it as a quick fix under its range;
// the edit applied gives a text that checks.
TEST(LspServer, QuickFixesAreTheCheckersFixIts) {
    Session s;
    const std::string text = "train { optimizer = adamx(lr = 3e-3) }\n";
    s.open(kUri, text);
    auto range = [](int from, int to) { return json{{"start", toJson({0, from})}, {"end", toJson({0, to})}}; };
    json r = s.call("textDocument/codeAction", {{"textDocument", {{"uri", kUri}}},
                                                {"range", range(22, 22)},
                                                {"context", {{"diagnostics", json::array()}}}})["result"];
    ASSERT_EQ(r.size(), 1u) << r;
    EXPECT_EQ(r[0]["kind"], "quickfix");
    EXPECT_EQ(r[0]["title"], "Change `adamx` to `adamw`");
    EXPECT_EQ(r[0]["diagnostics"][0]["code"], "unknown-builtin");
    const json& edits = r[0]["edit"]["changes"][kUri];
    ASSERT_EQ(edits.size(), 1u) << r;
    EXPECT_EQ(edits[0]["range"], range(20, 25));
    EXPECT_EQ(edits[0]["newText"], "adamw");
    std::string fixed = text;
    fixed.replace(20, 5, "adamw");
    s.open(kUri, fixed);
    // Nothing to fix there now, nor away from a diagnostic.
    EXPECT_EQ(
        s.call("textDocument/codeAction", {{"textDocument", {{"uri", kUri}}}, {"range", range(22, 22)}})["result"],
        json::array());
    auto caps = s.call("initialize", {{"capabilities", json::object()}})["result"]["capabilities"];
    EXPECT_EQ(caps["codeActionProvider"]["codeActionKinds"], json::array({"quickfix"}));
}

// Inside a built-in's parentheses: its signature from the registry, the
// parameter at the cursor (named, or the next positional one) and its doc.
TEST(LspServer, SignatureHelpFollowsTheParameter) {
    Session s;
    s.open(kUri, "train { optimizer = adamw(weight_decay = 0.1, |) }\n");
    json help = s.at("textDocument/signatureHelp", kUri);
    ASSERT_TRUE(help.is_object()) << help;
    const json& sig = help["signatures"][0];
    const std::string label = sig["label"];
    EXPECT_TRUE(label.starts_with("adamw(lr: ")) << label;
    const auto* adamw = stdlib::registry().find(stdlib::Family::Optimizer, "adamw");
    ASSERT_NE(adamw, nullptr);
    ASSERT_EQ(sig["parameters"].size(), adamw->params.size());
    // The next parameter not yet written: lr comes first and is not written.
    EXPECT_EQ(help["activeParameter"], 0);
    auto labelOf = [&](int i) {
        auto range = sig["parameters"][i]["label"];
        return label.substr(range[0].get<size_t>(), range[1].get<size_t>() - range[0].get<size_t>());
    };
    EXPECT_EQ(labelOf(0), stdlib::signature(adamw->params[0]));
    EXPECT_EQ(sig["parameters"][0]["documentation"]["value"].get<std::string>().substr(0, adamw->params[0].doc.size()),
              adamw->params[0].doc);
    // At a named argument, that parameter; choices are listed.
    s.open(kUri, "train { precision = \"fp32\"  schedule = one_cycle(epochs = |) }\n");
    help = s.at("textDocument/signatureHelp", kUri);
    ASSERT_TRUE(help.is_object()) << help;
    const auto* oneCycle = stdlib::registry().find(stdlib::Family::Schedule, "one_cycle");
    ASSERT_NE(oneCycle, nullptr);
    EXPECT_EQ(oneCycle->params[help["activeParameter"].get<size_t>()].name, "epochs");
    s.open(kUri, "model m { backbone = transformer(norm = |) }\n");
    help = s.at("textDocument/signatureHelp", kUri);
    ASSERT_TRUE(help.is_object()) << help;
    const json& norm = help["signatures"][0]["parameters"][help["activeParameter"].get<size_t>()];
    EXPECT_NE(norm["documentation"]["value"].get<std::string>().find("one of: `pre` `post`"), std::string::npos)
        << norm;
    // Outside any call: nothing.
    s.open(kUri, "train { |optimizer = adamw }\n");
    EXPECT_TRUE(s.at("textDocument/signatureHelp", kUri).is_null());
}

// The edits of a WorkspaceEdit for `uri`, applied to `text` (last first).
std::string applyEdits(std::string text, const json& edits) {
    SourceFile f("", text);
    std::vector<std::tuple<uint32_t, uint32_t, std::string>> spans;
    for (const auto& e : edits)
        spans.emplace_back(toOffset(f, positionFrom(e["range"]["start"])), toOffset(f, positionFrom(e["range"]["end"])),
                           e["newText"].get<std::string>());
    std::sort(spans.rbegin(), spans.rend());
    for (const auto& [b, e, t] : spans) text.replace(b, e - b, t);
    return text;
}

// `text` with the word `from` made `to` outside "strings" (a path may hold the
// same letters) and where it is not called (`lstm(...)`, a built-in, beside a block `lstm`).
std::string renamedOutsideStrings(const std::string& text, const std::string& from, const std::string& to) {
    std::string out;
    bool quoted = false;
    std::string piece;
    const std::regex word("\\b" + from + "\\b(?!\\()");  // not a built-in's call of that name
    for (char ch : text + '"') {
        if (ch != '"') {
            piece += ch;
            continue;
        }
        out += quoted ? piece : std::regex_replace(piece, word, to);
        out += '"';
        piece.clear();
        quoted = !quoted;
    }
    out.pop_back();
    return out;
}

// Runs of spaces as one: a longer name moves the plan's comment column.
std::string spaced(const std::string& text) {
    return std::regex_replace(text, std::regex(" +"), " ");
}

// Every named block and `let` of every example that imports nothing, renamed
// from its declaration: the plan is the same but for the new name, and the
// references are the places renamed.
TEST(LspServer, RenameChangesOnlyTheName) {
    Session s;
    int renamed = 0;
    for (const auto& path : testing::examplePaths()) {
        std::string text = readFile(path);
        if (text.find("import ") != std::string::npos) continue;
        std::string uri = pathToUri(path.string());
        s.open(uri, text);
        const Document* doc = s.server.document(uri);
        ASSERT_NE(doc, nullptr);
        auto before = compileText(path.string(), text);
        ASSERT_TRUE(before->ok()) << path;
        const std::string plan = renderPlan(before->pipeline);
        std::vector<std::pair<std::string, Span>> names;
        for (const auto& d : doc->declarations())
            if (d.nameSpan.file == &doc->file() && d.statement && d.statement->name)
                names.push_back({d.name, d.nameSpan});
        for (const auto& [name, span] : names) {
            const std::string to = "renamed_" + name;
            Position at = toPosition(doc->file(), span.begin);
            json r = s.call("textDocument/rename",
                            {{"textDocument", {{"uri", uri}}}, {"position", toJson(at)}, {"newName", to}});
            ASSERT_TRUE(r.contains("result")) << name << " in " << path << ": " << r;
            const json& edits = r["result"]["changes"][uri];
            json refs = s.call("textDocument/references", {{"textDocument", {{"uri", uri}}},
                                                           {"position", toJson(at)},
                                                           {"context", {{"includeDeclaration", true}}}})["result"];
            EXPECT_EQ(refs.size(), edits.size()) << name << " in " << path;
            auto after = compileText(path.string(), applyEdits(text, edits));
            ASSERT_TRUE(after->ok()) << name << " in " << path << ":\n" << render(after->diags);
            EXPECT_EQ(spaced(renderPlan(after->pipeline)), spaced(renamedOutsideStrings(plan, name, to)))
                << name << " in " << path;
            ++renamed;
        }
    }
    EXPECT_GT(renamed, 20);
    // Refused: a taken name, a keyword, not a name; and nothing to rename on a built-in.
    s.open(kUri, "data d { source = idx(\"x\") }\nmodel m { backbone = cnn }\ntrain { model = m  data = d }\n");
    auto refusal = [&](Position p, const std::string& to) {
        json r = s.call("textDocument/rename",
                        {{"textDocument", {{"uri", kUri}}}, {"position", toJson(p)}, {"newName", to}});
        return r.contains("error") ? r["error"]["message"].get<std::string>() : std::string();
    };
    EXPECT_NE(refusal({0, 5}, "m").find("already the name"), std::string::npos);
    EXPECT_NE(refusal({0, 5}, "model").find("a word of the language"), std::string::npos);
    EXPECT_NE(refusal({0, 5}, "2x").find("is not a name"), std::string::npos);
    EXPECT_NE(refusal({1, 24}, "x").find("no block or `let` name here"), std::string::npos);
    json refs = s.call("textDocument/references", {{"textDocument", {{"uri", kUri}}},
                                                   {"position", toJson({2, 26})},
                                                   {"context", {{"includeDeclaration", false}}}})["result"];
    ASSERT_EQ(refs.size(), 1u) << refs;
    EXPECT_EQ(refs[0]["range"]["start"], toJson({2, 26}));

    // Across an import: the block declared in the imported file is renamed there too.
    auto dir = std::filesystem::temp_directory_path() / ("pipe-rename-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "shared.pipe") << "data d { source = idx(\"x\") }\n";
    const std::string main = "import \"shared.pipe\"\nmodel m { backbone = cnn }\ntrain { model = m  data = d }\n";
    const std::string mainUri = pathToUri((dir / "main.pipe").string());
    s.open(mainUri, main);
    json r = s.call("textDocument/rename",
                    {{"textDocument", {{"uri", mainUri}}}, {"position", toJson({2, 26})}, {"newName", "images"}});
    ASSERT_TRUE(r.contains("result")) << r;
    const json& changes = r["result"]["changes"];
    ASSERT_TRUE(changes.contains(pathToUri((dir / "shared.pipe").string()))) << r;
    EXPECT_EQ(changes[mainUri].size(), 1u) << r;
    std::filesystem::remove_all(dir);
}

// Semantic tokens, decoded: each name coloured by what it is.
TEST(LspServer, SemanticTokensColourNamesByMeaning) {
    Session s;
    const std::string text =
        "let rate = 1e-3\n"
        "model lstm { backbone = lstm(dim = 8) }\n"
        "train fit { model = lstm  optimizer = adamw(lr = rate)  loss = cross_entropy }\n";
    s.open(kUri, text);
    json r = s.call("textDocument/semanticTokens/full", {{"textDocument", {{"uri", kUri}}}})["result"];
    const auto& data = r["data"];
    ASSERT_EQ(data.size() % 5, 0u) << r;
    const std::vector<std::string> types = {"class", "variable", "function", "parameter", "property"};
    std::vector<std::string> seen;  // "word:type[:modifiers]"
    SourceFile f("", text);
    int line = 0, character = 0;
    for (size_t i = 0; i < data.size(); i += 5) {
        int dl = data[i], dc = data[i + 1], length = data[i + 2], type = data[i + 3], modifiers = data[i + 4];
        character = dl == 0 ? character + dc : dc;
        line += dl;
        uint32_t at = toOffset(f, {line, character});
        seen.push_back(text.substr(at, size_t(length)) + ":" + types.at(size_t(type)) +
                       (modifiers ? ":" + std::to_string(modifiers) : ""));
    }
    const std::vector<std::string> expected = {
        "rate:variable:3", "lstm:class:1",    "backbone:property", "lstm:function",         "dim:parameter",
        "fit:class:1",     "model:property",  "lstm:class",        "optimizer:property",    "adamw:function",
        "lr:parameter",    "rate:variable:2", "loss:property",     "cross_entropy:function"};
    EXPECT_EQ(seen, expected);
    auto caps = s.call("initialize", {{"capabilities", json::object()}})["result"]["capabilities"];
    EXPECT_EQ(caps["semanticTokensProvider"]["legend"]["tokenTypes"].size(), types.size());
}

TEST(LspServer, DiagnosticsOfImportsAndNotes) {
    Session s;
    auto d = s.open(kUri, "import \"nowhere.pipe\"\nlet a = b\nlet b = a\n");
    std::set<std::string> codes;
    for (const auto& item : d) codes.insert(item["code"].get<std::string>());
    EXPECT_TRUE(codes.count("import-missing")) << d;
    // A UTF-16 range: the `é` before the error counts once.
    d = s.open(kUri, "let é = 1\n");
    ASSERT_FALSE(d.empty());
    EXPECT_EQ(d[0]["range"]["end"]["character"], 5);
}

TEST(LspServer, HoverShowsTheRegistrysDocumentation) {
    Session s;
    std::string text = readFile(kDir + "fashion.pipe");
    s.open(kUri, text);
    SourceFile f("", text);
    auto at = [&](const std::string& word, int into = 1) {
        auto r = s.at("textDocument/hover", kUri, toPosition(f, uint32_t(text.find(word) + into)));
        return r.is_null() ? std::string() : r["contents"]["value"].get<std::string>();
    };
    EXPECT_EQ(at("adamw"), stdlib::renderMarkdown({stdlib::registry().find(stdlib::Family::Optimizer, "adamw")}));
    EXPECT_NE(at("lr =").find("lr: float|range = 1e-3"), std::string::npos);
    EXPECT_NE(at("lr =").find("parameter of `adamw`"), std::string::npos);
    EXPECT_NE(at("batch_size").find("field of the `data` block"), std::string::npos);
    EXPECT_NE(at("data fashion").find("### `data`"), std::string::npos);
    EXPECT_NE(at("fashion.test").find("data fashion {"), std::string::npos);
    EXPECT_EQ(at("random(").rfind("### `random`", 0), 0u);  // the splitter, not the sweep strategy
    EXPECT_EQ(at("random(").find("trials"), std::string::npos);
    EXPECT_EQ(at("# examples"), "");  // a comment
    EXPECT_EQ(at("42\n"), "");        // a number
}

TEST(LspServer, CompletionFitsThePosition) {
    Session s;
    auto complete = [&](const std::string& text) {
        s.open(kUri, text);
        return labels(s.at("textDocument/completion", kUri));
    };
    auto l = complete("|");
    EXPECT_TRUE(has(l, "data") && has(l, "train") && has(l, "evaluate") && has(l, "seed")) << l.size();
    l = complete("data d {\n    source = idx(\"x\")\n    |\n}\n");
    EXPECT_TRUE(has(l, "blocks") && has(l, "batch_size") && !has(l, "source")) << l.size();
    l = complete("train { optimizer = a| }");
    EXPECT_TRUE(has(l, "adamw") && has(l, "sgd") && !has(l, "accuracy")) << l.size();
    l = complete("train { optimizer = adamw(| }");
    EXPECT_TRUE(has(l, "lr") && has(l, "weight_decay") && has(l, "slice")) << l.size();
    l = complete("train { optimizer = adamw(lr = 1e-3, | }");
    EXPECT_TRUE(!has(l, "lr") && has(l, "weight_decay")) << l.size();
    l = complete("train { precision = | }");
    EXPECT_TRUE(has(l, "\"bf16\"") && has(l, "\"fp32\"")) << l.size();
    l = complete("data { blocks = (|) }");
    EXPECT_TRUE(has(l, "image") && has(l, "category") && !has(l, "adamw")) << l.size();
    l = complete("data { item = [pad(2), |] }");
    EXPECT_TRUE(has(l, "flip") && has(l, "random_crop") && !has(l, "normalize")) << l.size();
    l = complete("data { cache = | }");
    EXPECT_TRUE(has(l, "true") && has(l, "false")) << l.size();
    // Names of blocks and stages, and their parts.
    std::string stages = "data d { source = idx(\"x\")  blocks = (image, category) }\nmodel m { backbone = cnn() }\n";
    l = complete(stages + "train t { model = | }");
    EXPECT_TRUE(has(l, "m") && !has(l, "d")) << l.size();
    l = complete(stages + "train t { data = d }\nevaluate |");
    EXPECT_EQ(l, std::vector<std::string>{"t"});
    l = complete(stages + "train t { data = d }\nevaluate t |");
    EXPECT_EQ(l, std::vector<std::string>{"on"});
    l = complete(stages + "train t { data = d }\nevaluate t on |");
    EXPECT_TRUE(has(l, "d.test") && has(l, "d.valid")) << l.size();
    l = complete(stages + "train t { data = d }\nevaluate t on d.|");
    EXPECT_TRUE(has(l, "train") && has(l, "test")) << l.size();
    l = complete(stages + "train t { data = d }\nmodel n { backbone = t.| }");
    EXPECT_EQ(l, std::vector<std::string>{"backbone"});
    // Contracts: a category target rules out regression losses. While the
    // text does not parse, the blocks are known from the last text that did.
    s.open(kUri, stages + "train t { data = d  model = m }");
    l = complete(stages + "train t { data = d  model = m  loss = | }");
    EXPECT_TRUE(has(l, "cross_entropy") && !has(l, "mse")) << l.size();
    // Sweep keys: the settings below a stage.
    s.open(kUri, stages + "train t { data = d  model = m }");
    l = complete(stages + "train t { data = d  model = m }\nsweep { t.optimizer.| }");
    EXPECT_TRUE(has(l, "lr") && has(l, "weight_decay")) << l.size();
    l = complete(stages + "train t { data = d  model = m }\nsweep { | }");
    EXPECT_TRUE(has(l, "t") && has(l, "strategy")) << l.size();
    // Nothing inside comments and strings.
    EXPECT_TRUE(complete("# data |").empty());
    EXPECT_TRUE(complete("data { source = idx(\"a|b\") }").empty());
}

TEST(LspServer, DefinitionSymbolsAndFormatting) {
    Session s;
    std::string text = readFile(kDir + "ulmfit.pipe");
    s.open(kUri, text);
    SourceFile f("", text);
    auto defAt = [&](const std::string& word, int into) {
        return s.at("textDocument/definition", kUri, toPosition(f, uint32_t(text.find(word) + into)));
    };
    auto def = defAt("pre.backbone", 1);
    ASSERT_FALSE(def.is_null());
    EXPECT_EQ(def["range"]["start"], toJson(toPosition(f, uint32_t(text.find("pre {")))));
    EXPECT_EQ(defAt("corpus.train.text", 9)["range"]["start"], toJson(toPosition(f, uint32_t(text.find("corpus {")))));
    EXPECT_TRUE(defAt("model    = lm", 1).is_null());  // a field name
    // Into an imported file, and to the file an import names.
    std::string sweep = readFile(kDir + "sweep.pipe");
    std::string sweepUri = pathToUri(kDir + "sweep.pipe");
    s.open(sweepUri, sweep);
    SourceFile sf("", sweep);
    def = s.at("textDocument/definition", sweepUri, toPosition(sf, uint32_t(sweep.find("fit.optimizer"))));
    EXPECT_EQ(def["uri"], pathToUri(kDir + "fashion.pipe"));
    EXPECT_EQ(def["range"]["start"]["line"], 17);  // `train fit`
    def = s.at("textDocument/definition", sweepUri, toPosition(sf, uint32_t(sweep.find("fashion.pipe"))));
    EXPECT_EQ(def["uri"], pathToUri(kDir + "fashion.pipe"));

    auto symbols = s.call("textDocument/documentSymbol", {{"textDocument", {{"uri", kUri}}}})["result"];
    std::vector<std::string> names = labels(json::array());
    for (const auto& sym : symbols) names.push_back(sym["name"]);
    EXPECT_EQ(names, (std::vector<std::string>{"spm", "corpus", "topics", "lm", "pre", "clf", "tune"}));
    EXPECT_EQ(symbols[1]["kind"], 23);
    EXPECT_EQ(symbols[1]["children"][0]["name"], "source");

    // Formatting is `pipe fmt`: nothing to do on a formatted file, one edit otherwise, none when it does not parse.
    EXPECT_EQ(s.call("textDocument/formatting", {{"textDocument", {{"uri", kUri}}}})["result"], json::array());
    s.open(kUri, "seed   1\ndata{source=idx(\"x\") blocks=(image,category)}");
    auto edits = s.call("textDocument/formatting", {{"textDocument", {{"uri", kUri}}}})["result"];
    ASSERT_EQ(edits.size(), 1u);
    EXPECT_EQ(edits[0]["newText"], "seed 1\n\ndata {\n    source = idx(\"x\")\n    blocks = (image, category)\n}\n");
    s.open(kUri, "data {");
    EXPECT_TRUE(s.call("textDocument/formatting", {{"textDocument", {{"uri", kUri}}}})["result"].is_null());
}

// Half-typed text: every prefix of every example, every request at its end
// and at a few places inside. Nothing may throw, crash or answer an error.
// Under AddressSanitizer every request is some ten times slower: there the
// prefixes are taken four characters apart (the plain build takes every one),
// so that scripts/test stays well inside CI's time.
#if defined(__SANITIZE_ADDRESS__)
constexpr size_t kPrefixStep = 4;
#else
constexpr size_t kPrefixStep = 1;
#endif

TEST(LspServer, EveryRequestOnEveryPrefixOfEveryExample) {
    Session s;
    size_t requests = 0;
    for (const auto& path : testing::examplePaths()) {
        std::string text = readFile(path);
        std::string uri = pathToUri(path.string());
        for (size_t n = 0; n <= text.size(); n += kPrefixStep) {
            std::string prefix = text.substr(0, n);
            s.open(uri, prefix);
            SourceFile f("", prefix);
            Position end = toPosition(f, uint32_t(n));
            for (Position p : {end, Position{0, 0}, Position{end.line / 2, 4}, Position{end.line + 3, 99}}) {
                for (const char* m : {"textDocument/completion", "textDocument/hover", "textDocument/definition",
                                      "textDocument/signatureHelp"}) {
                    auto r = s.call(m, {{"textDocument", {{"uri", uri}}}, {"position", toJson(p)}});
                    ASSERT_TRUE(r.contains("result")) << m << " at " << n << " of " << path << ": " << r;
                    ++requests;
                }
            }
            for (const char* m :
                 {"textDocument/documentSymbol", "textDocument/formatting", "textDocument/semanticTokens/full"}) {
                auto r = s.call(m, {{"textDocument", {{"uri", uri}}}});
                ASSERT_TRUE(r.contains("result")) << m << " at " << n << " of " << path << ": " << r;
                ++requests;
            }
            for (const char* m : {"textDocument/references", "textDocument/rename"}) {
                auto r = s.call(m, {{"textDocument", {{"uri", uri}}},
                                    {"position", toJson(end)},
                                    {"newName", "x2"},
                                    {"context", {{"includeDeclaration", true}}}});
                ASSERT_TRUE(r.contains("result") || r.contains("error")) << m << " at " << n << " of " << path;
            }
            auto actions = s.call(
                "textDocument/codeAction",
                {{"textDocument", {{"uri", uri}}}, {"range", {{"start", toJson({0, 0})}, {"end", toJson(end)}}}});
            ASSERT_TRUE(actions.contains("result")) << "codeAction at " << n << " of " << path << ": " << actions;
        }
    }
    EXPECT_GT(requests, 10000u);
}

TEST(LspServer, DeeplyNestedDocumentsAreOneDiagnostic) {
    // What someone typing (or pasting) thousands of brackets leaves open must
    // not end the server: one diagnostic, and every request still answers.
    Session s;
    const std::string uri = pathToUri(kDir + "deep.pipe");
    for (std::string text : {"let x = " + std::string(20000, '[') + "1" + std::string(20000, ']') + "\n",
                             "train t {\n    metrics = " + std::string(20000, '(')}) {
        json diags = s.open(uri, text);
        ASSERT_EQ(diags.size(), 1u) << diags;
        EXPECT_EQ(diags[0]["code"], "too-deep");
        SourceFile f("", text);
        for (Position p : {toPosition(f, uint32_t(text.size())), toPosition(f, uint32_t(text.size() / 2))})
            for (const char* m : {"textDocument/completion", "textDocument/hover", "textDocument/definition"})
                EXPECT_TRUE(s.call(m, {{"textDocument", {{"uri", uri}}}, {"position", toJson(p)}}).contains("result"));
        for (const char* m : {"textDocument/documentSymbol", "textDocument/formatting"})
            EXPECT_TRUE(s.call(m, {{"textDocument", {{"uri", uri}}}}).contains("result")) << m;
    }
}

TEST(LspCli, HelpAndUnknownOption) {
    auto r = testing::runPipe("lsp --help");
    EXPECT_EQ(r.code, 0);
    EXPECT_NE(r.out.find("Language Server Protocol"), std::string::npos);
    EXPECT_EQ(testing::runPipe("lsp --bogus").code, 2);
    r = testing::runPipe("lsp < /dev/null");  // the input ends without `exit`
    EXPECT_EQ(r.code, 1);
}

}  // namespace
}  // namespace pipelang::lsp
