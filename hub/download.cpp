#include "hub/download.h"

#include <curl/curl.h>

#include <cstdio>
#include <memory>
#include <stdexcept>

#include "record/sha256.h"

namespace pipelang::hub {

namespace fs = std::filesystem;

namespace {

struct Transfer {
    std::FILE* out = nullptr;
    uint64_t resumedFrom = 0;
    const Download* request = nullptr;
};

size_t write(char* data, size_t size, size_t count, void* user) {
    auto* t = static_cast<Transfer*>(user);
    return std::fwrite(data, size, count, t->out) * size;
}

int progress(void* user, curl_off_t total, curl_off_t now, curl_off_t, curl_off_t) {
    auto* t = static_cast<Transfer*>(user);
    if (t->request->progress)
        t->request->progress(t->resumedFrom + uint64_t(now), total > 0 ? t->resumedFrom + uint64_t(total) : 0);
    return 0;
}

// One GET of `url` appended to `partial` from byte `from`; returns the HTTP status.
long fetch(const Download& request, const fs::path& partial, uint64_t from, std::string& error) {
    std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
    if (!curl) throw std::runtime_error("libcurl could not start");
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> out(std::fopen(partial.c_str(), from ? "ab" : "wb"), std::fclose);
    if (!out) throw std::runtime_error("cannot write `" + partial.string() + "`");
    Transfer t{out.get(), from, &request};
    char message[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(curl.get(), CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl.get(), CURLOPT_FAILONERROR, 1L);  // an error page is not the file
    curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, write);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(curl.get(), CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl.get(), CURLOPT_XFERINFOFUNCTION, progress);
    curl_easy_setopt(curl.get(), CURLOPT_XFERINFODATA, &t);
    curl_easy_setopt(curl.get(), CURLOPT_ERRORBUFFER, message);
    curl_easy_setopt(curl.get(), CURLOPT_CONNECTTIMEOUT, 30L);
    // A stalled transfer (under 1 kB/s for a minute) fails instead of hanging.
    curl_easy_setopt(curl.get(), CURLOPT_LOW_SPEED_LIMIT, 1024L);
    curl_easy_setopt(curl.get(), CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(curl.get(), CURLOPT_USERAGENT, "pipe-fetch");
    if (from) curl_easy_setopt(curl.get(), CURLOPT_RESUME_FROM_LARGE, curl_off_t(from));
    CURLcode code = curl_easy_perform(curl.get());
    long status = 0;
    curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
    if (code != CURLE_OK && !(from && status == 416)) error = *message ? message : curl_easy_strerror(code);
    return status;
}

}  // namespace

Downloaded download(const Download& request) {
    static const bool ready = curl_global_init(CURL_GLOBAL_DEFAULT) == 0;
    if (!ready) throw std::runtime_error("libcurl could not start");
    fs::create_directories(request.dest.parent_path());
    fs::path partial = request.dest;
    partial += ".partial";
    std::error_code ec;
    Downloaded done;
    done.resumedFrom = fs::exists(partial, ec) ? fs::file_size(partial, ec) : 0;
    std::string error;
    long status = fetch(request, partial, done.resumedFrom, error);
    // A server that ignores the Range sends the whole file again (200, not
    // 206): start over rather than append it to what is there.
    if (error.empty() && done.resumedFrom && status == 200) {
        done.resumedFrom = 0;
        status = fetch(request, partial, 0, error);
    }
    if (!error.empty()) {
        if (fs::exists(partial, ec) && fs::file_size(partial, ec) == 0) fs::remove(partial, ec);
        if (status >= 400 && status != 416)
            throw std::runtime_error("downloading " + request.url + " failed: the server answered HTTP " +
                                     std::to_string(status) + " (is the name right?)");
        throw std::runtime_error("downloading " + request.url + " failed: " + error +
                                 "; run the same command again to resume");
    }
    done.bytes = fs::file_size(partial, ec);
    done.sha256 = record::sha256File(partial);
    if (!request.sha256Prefix.empty() && done.sha256.rfind(request.sha256Prefix, 0) != 0) {
        fs::remove(partial, ec);
        throw std::runtime_error("the download of " + request.url + " has SHA-256 " + done.sha256.substr(0, 16) +
                                 "…, but " + request.promisedBy + " promises " + request.sha256Prefix.substr(0, 16) +
                                 "…: it is not the published file, so it was removed");
    }
    fs::rename(partial, request.dest);
    return done;
}

}  // namespace pipelang::hub
