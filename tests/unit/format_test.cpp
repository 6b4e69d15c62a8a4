#include "interpreter/format.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "interpreter/parse.h"

namespace pipelang {
namespace {

// Parses text that must be free of syntax errors.
ast::Module parseClean(SourceManager& sources, const std::string& name, const std::string& text) {
    Diagnostics diags;
    ast::Module module = parse(sources.add(name, text), diags);
    EXPECT_FALSE(diags.hasErrors()) << name << ":\n" << render(diags) << text;
    return module;
}

std::string formatText(const std::string& text) {
    SourceManager sources;
    return format(parseClean(sources, "test.pipe", text));
}

// The comments of a source text, read straight from the characters (not from
// the AST, so comments the parser failed to attach are caught too).
std::vector<std::string> commentsIn(const std::string& text) {
    std::vector<std::string> out;
    bool inString = false;
    for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (inString) {
            if (c == '\\')
                ++i;
            else if (c == '"' || c == '\n')
                inString = false;
        } else if (c == '"') {
            inString = true;
        } else if (c == '#') {
            size_t end = text.find('\n', i);
            std::string comment = text.substr(i, end == std::string::npos ? std::string::npos : end - i);
            while (!comment.empty() && (comment.back() == ' ' || comment.back() == '\t' || comment.back() == '\r'))
                comment.pop_back();
            out.push_back(comment);
            i = end == std::string::npos ? text.size() : end;
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

// The properties every formatted file has: it parses to the same meaning,
// formatting it again changes nothing, every comment survives, and the text
// is tidy.
void expectFormatsWell(const std::string& name, const std::string& text) {
    SCOPED_TRACE(name);
    SourceManager sources;
    ast::Module original = parseClean(sources, name, text);
    std::string once = format(original);
    ast::Module reparsed = parseClean(sources, name + " (formatted)", once);
    EXPECT_EQ(ast::dump(reparsed), ast::dump(original)) << once;
    EXPECT_EQ(format(reparsed), once);
    EXPECT_EQ(commentsIn(once), commentsIn(text)) << once;
    if (!once.empty()) {
        EXPECT_EQ(once.back(), '\n');
        EXPECT_FALSE(once.ends_with("\n\n")) << once;
        EXPECT_NE(once.front(), '\n') << once;
        EXPECT_EQ(once.find("\n\n\n"), std::string::npos) << once;
    }
    std::istringstream lines(once);
    for (std::string line; std::getline(lines, line);) {
        EXPECT_TRUE(line.empty() || (line.back() != ' ' && line.back() != '\t')) << "trailing space: " << line;
    }
}

// Returns whether the text parsed (and so was checked).
bool expectFormatsWellIfItParses(const std::string& text) {
    SourceManager sources;
    Diagnostics diags;
    parse(sources.add("fuzz.pipe", text), diags);
    if (diags.hasErrors()) return false;
    expectFormatsWell("fuzz.pipe:\n" + text, text);
    return true;
}

std::string readFile(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

std::vector<std::filesystem::path> pipeFiles() {
    namespace fs = std::filesystem;
    std::vector<fs::path> files;
    for (const char* dir : {"examples", "tests"}) {
        fs::path root = fs::path(PIPE_SOURCE_DIR) / dir;
        if (!fs::exists(root)) continue;
        for (const auto& entry : fs::recursive_directory_iterator(root))
            if (entry.is_regular_file() && entry.path().extension() == ".pipe") files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    return files;
}

TEST(Format, EveryRepositoryFileIsStableAndKeepsItsMeaning) {
    int checked = 0;
    for (const auto& path : pipeFiles()) {
        std::string text = readFile(path);
        SourceManager sources;
        Diagnostics diags;
        parse(sources.add(path.string(), text), diags);
        if (diags.hasErrors()) continue;  // golden files for syntax errors
        expectFormatsWell(path.string(), text);
        ++checked;
    }
    EXPECT_GE(checked, 5);  // at least the examples
}

// Fixtures with comments and blank lines in odd places.
const char* const kTricky[] = {
    // a comment between a field's name and `=`, after `{`, after the last item
    R"(data x {  # after the brace
    source # between name and equals
        = csv("a.csv")
    items = [a, b,  # after the last item
    ]
    other = 1
})",
    // comments after `[`, before `]`, between a call's name and `(`
    R"(let xs = [  # after the bracket
  1, 2,
  # before the bracket
]
let y = f # between callee and paren
  (a = 1, b # between name and equals
  = [2, 3])
)",
    // a comment-only file, no trailing newline
    "# only a comment\n\n# and another",
    // comments inside a statement before its value
    R"(seed # odd
  42
evaluate # odder
  fit on x.test with [a, b]
export fit # oddest
  to "x.safetensors"
)",
    // one-line blocks with several fields and comments, a trailing comment on `}`
    R"(train { a = 1  b = [1,
  2]  # on b
  c = f(x,
        [y, z]  # on the list
  ) }  # on the block
model { backbone = resnet() } # after
)",
    // nested broken containers with trailing comments on closers
    R"(data d {
    blocks = (
        text(
            tokenizer = spm,  # which
        ),  # the text block
        category,
    )
}
# end of file
)",
    // blank lines between comments, before fields, at the start and end
    R"(

# first

# second
seed 1


let a = 2
data x {

    # lead

    p = 1


    q = 2

    # dangling one

    # dangling two
}
export t to "y"

# end
)",
    // empty containers and blocks, CRLF line endings, a comment after a comma
    "let e = f()\r\nlet l = []  # empty\r\nlet t = ()\r\nsweep {}\r\nmodel m {\r\n  # nothing\r\n}\r\n",
    // items with leading and trailing comments in a call and a tuple
    R"(let c = f(
    # lead a
    a = 1,  # trail a
    2,
    # dangling
)
let t = (x,  # t
  y)
)",
    // a one-item tuple broken by its comment; `#` inside strings; non-ASCII
    R"(let t = (a  # c
)
let s = "a # b"  # réal
let v = ["héllo wörld éééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééé"]
data data { model = model  with = on.to }
data x # before the brace
{}
let z = # after equals
  -5
)",
    // a very long field whose value must break recursively
    R"(data topics { source = fortunes("/usr/share/games/fortunes", files = ["art", "food", "science", "sports", "love", "politics", "computers"], recursive = true) })",
};

TEST(Format, TrickyFixturesAreStableAndKeepComments) {
    for (const char* text : kTricky) expectFormatsWell("tricky.pipe", text);
}

// A comment put between any two tokens of the examples: wherever the parser
// attaches it, formatting keeps it and is stable.
TEST(Format, ACommentBetweenAnyTwoTokensIsKeptAndStable) {
    auto isWord = [](char c) { return std::isalnum((unsigned char)c) || c == '_' || c == '.'; };
    int checked = 0;
    for (const auto& path : pipeFiles()) {
        if (path.parent_path().filename() != "examples") continue;
        const std::string text = readFile(path);
        bool inString = false, inComment = false;
        for (size_t i = 1; i < text.size(); ++i) {
            char c = text[i - 1];
            if (inComment)
                inComment = c != '\n';
            else if (inString)
                inString = !(c == '"' && text[i - 2] != '\\');
            else if (c == '#')
                inComment = true;
            else if (c == '"')
                inString = true;
            if (inString || inComment || (isWord(c) && isWord(text[i]))) continue;
            for (const char* comment : {" # fuzz\n", "\n# fuzz\n\n"})
                checked += expectFormatsWellIfItParses(text.substr(0, i) + comment + text.substr(i));
        }
    }
    EXPECT_GT(checked, 1000);
}

TEST(Format, AlignsEqualsWithinARunOfFields) {
    EXPECT_EQ(formatText("train { loss = a\n optimizer = b\n\n x = 1\n long_name = 2\n # c\n y = 3\n zz = 4 }"),
              "train {\n"
              "    loss      = a\n"
              "    optimizer = b\n"
              "\n"
              "    x         = 1\n"
              "    long_name = 2\n"
              "    # c\n"
              "    y  = 3\n"
              "    zz = 4\n"
              "}\n");
}

TEST(Format, BreaksALongListOntoLines) {
    std::string items;
    for (int i = 0; i < 20; ++i) items += (i ? ", " : "") + std::string("\"item") + std::to_string(i) + "\"";
    EXPECT_EQ(formatText("let xs = [" + items + ", [1, 2]]"),
              "let xs = [\n"
              "    \"item0\",\n    \"item1\",\n    \"item2\",\n    \"item3\",\n    \"item4\",\n"
              "    \"item5\",\n    \"item6\",\n    \"item7\",\n    \"item8\",\n    \"item9\",\n"
              "    \"item10\",\n    \"item11\",\n    \"item12\",\n    \"item13\",\n    \"item14\",\n"
              "    \"item15\",\n    \"item16\",\n    \"item17\",\n    \"item18\",\n    \"item19\",\n"
              "    [1, 2],\n"
              "]\n");
}

TEST(Format, BreaksOnlyTheContainersThatDoNotFit) {
    std::string longString(80, 'x');
    EXPECT_EQ(formatText("data d { source = csv(\"" + longString + "\", columns = [\"a\", \"b\"]) }"),
              "data d {\n"
              "    source = csv(\n"
              "        \"" +
                  longString +
                  "\",\n"
                  "        columns = [\"a\", \"b\"],\n"
                  "    )\n"
                  "}\n");
}

TEST(Format, ACommentInsideAListBreaksItAndItsParents) {
    EXPECT_EQ(formatText("model { backbone = cnn(channels = [32,  # small\n 64]) }"),
              "model {\n"
              "    backbone = cnn(\n"
              "        channels = [\n"
              "            32,  # small\n"
              "            64,\n"
              "        ],\n"
              "    )\n"
              "}\n");
}

TEST(Format, DanglingCommentsGoBeforeTheCloser) {
    EXPECT_EQ(formatText("let xs = [1, 2\n  # more later\n]\ndata d { a = 1\n # b = 2\n }\n# the end"),
              "let xs = [\n"
              "    1,\n"
              "    2,\n"
              "    # more later\n"
              "]\n"
              "\n"
              "data d {\n"
              "    a = 1\n"
              "    # b = 2\n"
              "}\n"
              "\n"
              "# the end\n");
}

TEST(Format, KeepsSingleBlankLinesAndSeparatesBlocks) {
    EXPECT_EQ(formatText("\n\nseed 1\nlet a = 1\n\n\n\nlet b = 2\nmodel {}\ntrain {}\nexport t to \"x\"\n"),
              "seed 1\n"
              "let a = 1\n"
              "\n"
              "let b = 2\n"
              "\n"
              "model {}\n"
              "\n"
              "train {}\n"
              "\n"
              "export t to \"x\"\n");
}

TEST(Format, NoBlankLineAfterTheBraceOrBeforeTheCloser) {
    EXPECT_EQ(formatText("data {\n\n   a = 1\n\n}"), "data {\n    a = 1\n}\n");
}

TEST(Format, CommentsKeepTheirBlankLines) {
    EXPECT_EQ(formatText("# header\n\n# about seed\nseed 1\n\n# notes\n"),
              "# header\n"
              "\n"
              "# about seed\n"
              "seed 1\n"
              "\n"
              "# notes\n");
}

TEST(Format, ReescapesStrings) {
    EXPECT_EQ(formatText(R"(let s = "a\"b\\c\nd\te\rf")"), "let s = \"a\\\"b\\\\c\\nd\\te\\rf\"\n");
    EXPECT_EQ(formatText("import \"dir\\\\x.pipe\""), "import \"dir\\\\x.pipe\"\n");
}

TEST(Format, NumbersStayAsWritten) {
    EXPECT_EQ(formatText("let n = [-3, -0.5, 3e-4, 1_000, .5, 2.]"), "let n = [-3, -0.5, 3e-4, 1_000, .5, 2.]\n");
}

TEST(Format, AOneItemTupleStaysATuple) {
    EXPECT_EQ(formatText("data d { blocks = (tokens(context = 64),) }"),
              "data d {\n    blocks = (tokens(context = 64))\n}\n");
}

TEST(Format, EmptyBlocksAndContainers) {
    EXPECT_EQ(formatText("model {\n}\ntrain   fit{}\nlet x = f( )"), "model {}\n\ntrain fit {}\n\nlet x = f()\n");
    EXPECT_EQ(formatText("let x = [\n  # nothing yet\n]"), "let x = [\n    # nothing yet\n]\n");
}

TEST(Format, StatementsInCanonicalForm) {
    EXPECT_EQ(formatText("seed   42 import\"a.pipe\" let  x=f(1,name=v)\n"
                         "evaluate fit on fashion . test with [accuracy] evaluate fit on d.test\n"
                         "export fit to \"f.safetensors\""),
              "seed 42\n"
              "import \"a.pipe\"\n"
              "let x = f(1, name = v)\n"
              "evaluate fit on fashion.test with [accuracy]\n"
              "evaluate fit on d.test\n"
              "export fit to \"f.safetensors\"\n");
}

TEST(Format, EmptyFile) {
    EXPECT_EQ(formatText(""), "");
    EXPECT_EQ(formatText("\n\n"), "");
}

TEST(Format, TrailingCommentsAfterTwoSpaces) {
    EXPECT_EQ(formatText("seed 1 # one\ndata d { a = 1      # a\n}   # block"),
              "seed 1  # one\n\ndata d {\n    a = 1  # a\n}  # block\n");
}

}  // namespace
}  // namespace pipelang
