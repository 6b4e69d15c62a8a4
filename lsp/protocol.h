// The Language Server Protocol's plumbing: positions in UTF-16 code units,
// file URIs, and the Content-Length framing of JSON-RPC messages. The rest of
// the server works on byte offsets and spans, like the front end.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "interpreter/source.h"

namespace pipelang::lsp {

using nlohmann::json;

// An LSP position: 0-based line, and a column counted in UTF-16 code units.
struct Position {
    int line = 0;
    int character = 0;
};

// The LSP position of a byte offset (clamped to the end of the text).
Position toPosition(const SourceFile& file, uint32_t offset);
// The byte offset of an LSP position; a line or column past the end is clamped
// to the end of the line or of the file.
uint32_t toOffset(const SourceFile& file, Position position);
Position positionFrom(const json& j);  // `{"line": 0, "character": 4}`; zeros when malformed

json toJson(Position p);
// `{"start": ..., "end": ...}` of a span; an invalid span is the file's first character.
json rangeOf(const Span& span);

// `file:///a%20b/c.pipe` → `/a b/c.pipe`. Other URIs (`untitled:1`) come back as they are.
std::string uriToPath(const std::string& uri);
// `/a b/c.pipe` → `file:///a%20b/c.pipe` (relative paths are made absolute first).
std::string pathToUri(const std::string& path);

// Reads one message: `Content-Length: N` headers, an empty line, N bytes.
// Returns nullopt at the end of the input or on a header it cannot read.
std::optional<std::string> readMessage(std::istream& in);
void writeMessage(std::ostream& out, const std::string& body);

}  // namespace pipelang::lsp
