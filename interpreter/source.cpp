#include "interpreter/source.h"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace pipelang {

SourceFile::SourceFile(std::string name_, std::string text_) : name(std::move(name_)), text(std::move(text_)) {
    lineStarts.push_back(0);
    for (uint32_t i = 0; i < text.size(); ++i)
        if (text[i] == '\n') lineStarts.push_back(i + 1);
}

std::pair<int, int> SourceFile::position(uint32_t offset) const {
    auto it = std::upper_bound(lineStarts.begin(), lineStarts.end(), offset);
    int line = int(it - lineStarts.begin());
    return {line, int(offset - lineStarts[line - 1]) + 1};
}

std::string_view SourceFile::line(int line) const {
    if (line < 1 || line > int(lineStarts.size())) return {};
    uint32_t begin = lineStarts[line - 1];
    uint32_t end = line < int(lineStarts.size()) ? lineStarts[line] - 1 : uint32_t(text.size());
    std::string_view view(text);
    view = view.substr(begin, end - begin);
    if (!view.empty() && view.back() == '\r') view.remove_suffix(1);
    return view;
}

Span Span::cover(const Span& a, const Span& b) {
    if (!a.valid()) return b;
    if (!b.valid()) return a;
    return Span{a.file, std::min(a.begin, b.begin), std::max(a.end, b.end)};
}

const SourceFile& SourceManager::add(std::string name, std::string text) {
    files_.push_back(std::make_unique<SourceFile>(std::move(name), std::move(text)));
    return *files_.back();
}

const SourceFile* SourceManager::load(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return nullptr;
    std::ostringstream buffer;
    buffer << in.rdbuf();
    if (in.bad()) return nullptr;
    return &add(path, buffer.str());
}

}  // namespace pipelang
