// Golden diagnostics: every tests/diagnostics/NAME.pipe is a small broken file,
// and NAME.expected holds exactly what `pipe check` prints for it on stderr
// (without colour). Each case is one test, run from the repository root so
// file names in messages read `tests/diagnostics/NAME.pipe`.
//
//   - Files and folders whose name starts with `_` are not cases: they are
//     imported by cases, or read by them (a CSV header, a data folder).
//   - A case's first line may give `--set` overrides, as on the command line
//     but without shell quoting: `# args: --set fit.optimizer.lrr=1 --set seed=3`.
//     Each `--set` takes everything up to the next `--set` (spaces included).
//   - To accept new output after a deliberate change, rerun with
//     UPDATE_GOLDEN=1: the .expected files are rewritten instead of compared.
//     Review the change with `git diff tests/diagnostics` before committing.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <sys/wait.h>
#include <unistd.h>

#include "interpreter/compile.h"
#include "interpreter/fixes.h"
#include "interpreter/format.h"
#include "interpreter/parse.h"

namespace pipelang {
namespace {

namespace fs = std::filesystem;

const char* const kDir = "tests/diagnostics";

std::string readFile(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

// The case names (file stems), sorted.
std::vector<std::string> caseNames() {
    std::vector<std::string> out;
    fs::path root = fs::path(PIPE_SOURCE_DIR) / kDir;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(root, ec)) {
        const auto& p = entry.path();
        if (!entry.is_regular_file() || p.extension() != ".pipe") continue;
        if (p.filename().string().starts_with("_")) continue;
        out.push_back(p.stem().string());
    }
    std::sort(out.begin(), out.end());
    return out;
}

// `--set` values from a first line `# args: --set a=1 --set b=2`.
std::vector<std::string> overridesOf(const std::string& text) {
    std::vector<std::string> out;
    std::string first = text.substr(0, text.find('\n'));
    const std::string marker = "# args:";
    if (!first.starts_with(marker)) return out;
    std::string rest = first.substr(marker.size());
    const std::string flag = "--set";
    size_t at = rest.find(flag);
    while (at != std::string::npos) {
        size_t next = rest.find(" " + flag, at + flag.size());
        std::string value =
            rest.substr(at + flag.size(), next == std::string::npos ? std::string::npos : next - at - flag.size());
        size_t b = value.find_first_not_of(' '), e = value.find_last_not_of(' ');
        out.push_back(b == std::string::npos ? "" : value.substr(b, e - b + 1));
        at = next == std::string::npos ? next : next + 1;
    }
    return out;
}

std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    std::stringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

// A line diff (longest common subsequence): `-` expected, `+` actual.
std::string diff(const std::string& expected, const std::string& actual) {
    auto a = lines(expected), b = lines(actual);
    std::vector<std::vector<size_t>> lcs(a.size() + 1, std::vector<size_t>(b.size() + 1, 0));
    for (size_t i = a.size(); i-- > 0;)
        for (size_t j = b.size(); j-- > 0;)
            lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
    std::string out;
    size_t i = 0, j = 0;
    while (i < a.size() || j < b.size()) {
        if (i < a.size() && j < b.size() && a[i] == b[j]) {
            out += "  " + a[i++] + "\n";
            ++j;
        } else if (i < a.size() && (j == b.size() || lcs[i + 1][j] >= lcs[i][j + 1])) {
            out += "- " + a[i++] + "\n";
        } else {
            out += "+ " + b[j++] + "\n";
        }
    }
    return out;
}

class GoldenCase : public ::testing::TestWithParam<std::string> {
protected:
    static void SetUpTestSuite() {
        // Messages name files relative to the repository root.
        std::error_code ec;
        if (!fs::equivalent(fs::current_path(), PIPE_SOURCE_DIR, ec)) fs::current_path(PIPE_SOURCE_DIR);
    }
};

TEST_P(GoldenCase, Diagnostics) {
    const std::string name = GetParam();
    const std::string pipePath = std::string(kDir) + "/" + name + ".pipe";
    const std::string expectedPath = std::string(kDir) + "/" + name + ".expected";
    auto overrides = overridesOf(readFile(pipePath));
    auto c = compileFile(pipePath, CompileOptions{overrides});
    std::string actual = render(c->diags);

    EXPECT_FALSE(c->diags.empty()) << pipePath << " is a golden case but gives no error or warning";
    if (const char* update = std::getenv("UPDATE_GOLDEN"); update && std::string(update) == "1") {
        std::ofstream(expectedPath, std::ios::binary) << actual;
        return;
    }
    ASSERT_TRUE(fs::exists(expectedPath)) << expectedPath << " is missing; run with UPDATE_GOLDEN=1 to create it\n"
                                          << "the checker says:\n"
                                          << actual;
    std::string expected = readFile(expectedPath);
    EXPECT_TRUE(expected == actual) << "diagnostics of " << pipePath << " differ from " << expectedPath
                                    << " (- expected, + actual; UPDATE_GOLDEN=1 accepts them):\n"
                                    << diff(expected, actual);
}

std::string canonical(const std::string& text) {
    SourceFile file("x.pipe", text);
    Diagnostics diags;
    ast::Module module = parse(file, diags);
    return diags.hasErrors() ? "" : format(module);
}

size_t errorCount(const Compilation& c) {
    return c.diags.errorCount();
}

// Every fix the golden cases offer, applied: each removes its own error and
// adds none (so a case whose every error had a fix now checks), and a file
// in `pipe fmt`'s layout stays in it.
TEST(GoldenFixes, EachFixRemovesItsErrorAndKeepsTheLayout) {
    std::error_code ec;
    if (!fs::equivalent(fs::current_path(), PIPE_SOURCE_DIR, ec)) fs::current_path(PIPE_SOURCE_DIR);
    int fixedCases = 0;
    for (const auto& name : caseNames()) {
        const std::string path = std::string(kDir) + "/" + name + ".pipe";
        const std::string original = readFile(path);
        auto overrides = overridesOf(original);
        auto c = compileFile(path, CompileOptions{overrides});
        FixedFiles fixed = applyFixes(*c);
        auto it = fixed.texts.find(path);
        if (it == fixed.texts.end()) continue;
        ++fixedCases;
        size_t fixable = 0;
        for (const auto& d : c->diags.items())
            if (d.severity == Severity::Error && !d.fixes.empty() && d.fixes[0].span.file &&
                d.fixes[0].span.file->name == path)
                ++fixable;
        auto after = compileText(path, it->second, CompileOptions{overrides});
        EXPECT_EQ(errorCount(*after), errorCount(*c) - fixable) << path << " fixed:\n"
                                                                << it->second << "\nstill says:\n"
                                                                << render(after->diags);
        if (canonical(original) == original) {
            EXPECT_EQ(canonical(it->second), it->second) << path;
        }
    }
    EXPECT_GE(fixedCases, 20) << "the golden cases offer fewer fixes than they did";
}

// `pipe check --fix` makes the edits, says each, and checks again.
TEST(GoldenFixes, CheckFixWritesTheFileAndSaysWhatChanged) {
    fs::path dir = fs::temp_directory_path() / ("pipe-fix-test-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const std::string file = (dir / "t.pipe").string();
    std::ofstream(file)
        << "data d {\n    source = idx(\"/nonexistent\", train = \"train\", test = \"t10k\")\n"
           "    blocks = (image(channels = 1), category)\n    split  = random(valid = 0.1, seed = 1)\n}\n"
           "model m { backbone = cnn }\n"
           "train t {\n    model     = m\n    data      = d\n    optimizer = adamx(lr = 1e-3)\n}\n";
    std::string command = std::string(PIPE_BINARY) + " check --fix " + file + " 2>&1";
    std::string out;
    FILE* p = popen(command.c_str(), "r");
    ASSERT_NE(p, nullptr);
    char buffer[4096];
    for (size_t n; (n = fread(buffer, 1, sizeof buffer, p)) > 0;) out.append(buffer, n);
    int status = pclose(p);
    EXPECT_EQ(WEXITSTATUS(status), 0) << out;
    EXPECT_NE(out.find("t.pipe:10:17: fixed: adamx -> adamw"), std::string::npos) << out;
    EXPECT_NE(readFile(file).find("optimizer = adamw(lr = 1e-3)"), std::string::npos);
    fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Golden, GoldenCase, ::testing::ValuesIn(caseNames()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                             std::string id = info.param;
                             for (char& ch : id)
                                 if (!std::isalnum((unsigned char)ch)) ch = '_';
                             return id;
                         });

TEST(GoldenSet, CoversEnoughCases) {
    auto names = caseNames();
    EXPECT_GE(names.size(), 45u) << "the golden diagnostics should cover every kind of error";
    // Every .expected belongs to a case (a renamed case leaves none behind).
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(fs::path(PIPE_SOURCE_DIR) / kDir, ec)) {
        if (entry.path().extension() != ".expected") continue;
        EXPECT_TRUE(std::find(names.begin(), names.end(), entry.path().stem().string()) != names.end())
            << entry.path() << " has no .pipe case";
    }
}

TEST(GoldenSet, ArgsLineIsRead) {
    EXPECT_EQ(overridesOf("# args: --set a.b=1 --set c=f(x = 1)\ndata {}"),
              (std::vector<std::string>{"a.b=1", "c=f(x = 1)"}));
    EXPECT_TRUE(overridesOf("data {}\n# args: --set a=1").empty());
}

}  // namespace
}  // namespace pipelang
