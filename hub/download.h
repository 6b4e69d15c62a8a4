// Downloading a file into a cache the way torch.hub does, but safer to stop
// half-way: bytes go to DEST.partial, a later call resumes from there (an
// HTTP Range request), and only a file whose SHA-256 starts with the
// expected digits is renamed to DEST. A mismatch removes the partial file:
// nothing broken stays behind. libcurl does the transfer.
#pragma once

#include <filesystem>
#include <functional>
#include <string>

namespace pipelang::hub {

struct Download {
    std::string url;
    std::filesystem::path dest;
    std::string sha256Prefix;  // empty: not checked
    // Called as bytes arrive: (bytes so far, total or 0 when unknown).
    std::function<void(uint64_t, uint64_t)> progress;
    // Who promised sha256Prefix, for the message when the file differs.
    std::string promisedBy = "its name";
};

struct Downloaded {
    uint64_t bytes = 0;
    uint64_t resumedFrom = 0;  // bytes a previous, interrupted download had left
    std::string sha256;
};

// Throws std::runtime_error with a sentence for the user (which URL, what
// the server said, what to do).
Downloaded download(const Download& request);

}  // namespace pipelang::hub
