#include "runtime/data/audio.h"

#include <sndfile.h>
#include <soxr.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <numbers>
#include <numeric>
#include <sstream>

#include "runtime/error.h"
#include "runtime/makers.h"
#include "runtime/values.h"

namespace pipelang::runtime {

namespace {

constexpr const char* kSoundWhatToDo =
    "give a WAV, FLAC or Ogg Vorbis file (convert others with `ffmpeg -i FILE out.wav`), or set `on_bad = \"skip\"` "
    "in the audio block to leave bad files out";

// The most samples one file may hold (all channels): two hours of 8-channel
// sound at 48 kHz, so a damaged header cannot make pipe allocate without bound.
constexpr int64_t kMaxSoundSamples = int64_t(2) * 3600 * 48000 * 8;

[[noreturn]] void badSound(const std::filesystem::path& path, const std::string& why) {
    throw RuntimeError("sound file `" + path.string() + "` " + why + "; " + kSoundWhatToDo + ".");
}

// libsndfile reads a WAV or AIFF whose data chunk was cut short as if it were
// whole, and says so only in its log ("data : 64000 (should be 19942)").
std::string soundCutShort(SNDFILE* file) {
    char log[8192] = {0};
    sf_command(file, SFC_GET_LOG_INFO, log, sizeof log);
    std::istringstream lines(log);
    for (std::string line; std::getline(lines, line);)
        if (line.rfind("data", 0) == 0 && line.find("should be") != std::string::npos) return line;
    return "";
}

}  // namespace

AudioBlock audioBlock(const Value* call) {
    AudioBlock block;
    block.sampleRate = intArg(call, "sample_rate");
    block.mono = stringArg(call, "channels") == "mono";
    block.samples = std::max<int64_t>(1, std::llround(numberArg(call, "duration") * double(block.sampleRate)));
    return block;
}

torch::Tensor readSound(const std::filesystem::path& path, int64_t& sampleRate) {
    std::error_code error;
    if (!std::filesystem::is_regular_file(path, error))
        throw RuntimeError("sound file `" + path.string() + "` does not exist or is not a file; check the path.");
    SF_INFO info;
    std::memset(&info, 0, sizeof info);
    std::unique_ptr<SNDFILE, int (*)(SNDFILE*)> file(sf_open(path.c_str(), SFM_READ, &info), sf_close);
    if (!file) {
        std::string why = sf_strerror(nullptr);
        if (why.find("not recognised") != std::string::npos || why.find("not recognized") != std::string::npos)
            badSound(path, "is not a sound file libsndfile knows (" + why + ")");
        badSound(path, "cannot be read (" + why + ")");
    }
    if (std::string line = soundCutShort(file.get()); !line.empty())
        badSound(path, "is cut short: its header promises more sound than the file holds (" + line + ")");
    if (info.channels < 1 || info.samplerate < 1) badSound(path, "has no channels or no sample rate");
    if (info.frames <= 0) badSound(path, "holds no sound (0 samples)");
    if (info.frames > kMaxSoundSamples / info.channels) badSound(path, "is too long to read whole");
    const int64_t channels = info.channels, frames = info.frames;
    std::vector<float> interleaved(size_t(channels * frames));
    sf_count_t got = sf_readf_float(file.get(), interleaved.data(), frames);
    if (got < frames) {
        std::string why = sf_strerror(file.get());
        badSound(path, "is cut short or damaged: " + std::to_string(got) + " of its " + std::to_string(frames) +
                           " samples could be decoded (" + why + ")");
    }
    sampleRate = info.samplerate;
    // A copy: the samples' buffer ends here (and a one-channel transpose
    // is already contiguous, so contiguous() alone would not copy).
    return torch::from_blob(interleaved.data(), {frames, channels}, torch::kFloat32)
        .t()
        .clone(torch::MemoryFormat::Contiguous);
}

torch::Tensor resample(const torch::Tensor& wave, int64_t from, int64_t to) {
    if (from == to) return wave;
    const int64_t channels = wave.size(0), frames = wave.size(1);
    // torchaudio's length: ceil(frames × to / from), after reducing the ratio.
    const int64_t g = std::gcd(from, to);
    const int64_t length = (frames * (to / g) + (from / g) - 1) / (from / g);
    std::vector<float> in(size_t(channels * frames));
    torch::Tensor interleaved = wave.t().contiguous();
    std::memcpy(in.data(), interleaved.data_ptr<float>(), in.size() * sizeof(float));
    std::vector<float> out(size_t(channels * (length + 16)));
    const soxr_quality_spec_t quality = soxr_quality_spec(SOXR_HQ, 0);
    size_t made = 0;
    if (soxr_error_t error = soxr_oneshot(double(from), double(to), unsigned(channels), in.data(), size_t(frames),
                                          nullptr, out.data(), size_t(length + 16), &made, nullptr, &quality, nullptr))
        throw RuntimeError(std::string("resampling failed: ") + error);
    torch::Tensor result = torch::zeros({length, channels}, torch::kFloat32);
    const int64_t kept = std::min<int64_t>(length, int64_t(made));
    std::memcpy(result.data_ptr<float>(), out.data(), size_t(kept * channels) * sizeof(float));
    return result.t().contiguous();
}

torch::Tensor loadSound(const std::filesystem::path& path, const AudioBlock& block) {
    int64_t rate = 0;
    torch::Tensor wave = readSound(path, rate);
    if (block.mono && wave.size(0) > 1) wave = wave.mean(0, /*keepdim=*/true);
    return resample(wave, rate, block.sampleRate);
}

torch::Tensor fitDuration(const torch::Tensor& wave, int64_t samples, Rng* random) {
    const int64_t length = wave.size(1);
    if (length == samples) return wave;
    if (length > samples) {
        int64_t start = random ? int64_t(random->below(uint64_t(length - samples + 1))) : (length - samples) / 2;
        return wave.narrow(1, start, samples).contiguous();
    }
    torch::Tensor out = torch::zeros({wave.size(0), samples}, torch::kFloat32);
    out.narrow(1, 0, length).copy_(wave);
    return out;
}

// ---- spectrograms -------------------------------------------------------------

torch::Tensor spectrogram(const torch::Tensor& wave, const StftSettings& stft, double power, bool normalized) {
    return spectrogram(wave, stft, torch::hann_window(stft.winLength, torch::kFloat32), power, normalized);
}

torch::Tensor spectrogram(const torch::Tensor& wave, const StftSettings& stft, const torch::Tensor& window,
                          double power, bool normalized) {
    const int64_t length = wave.size(-1);
    if (stft.center && length <= stft.nFft / 2)
        throw RuntimeError("a spectrogram with n_fft = " + std::to_string(stft.nFft) + " needs more than " +
                           std::to_string(stft.nFft / 2) + " samples per item, but items have " +
                           std::to_string(length) + "; lengthen the audio block's `duration` or lower `n_fft`.");
    if (!stft.center && length < stft.nFft)
        throw RuntimeError("a spectrogram with n_fft = " + std::to_string(stft.nFft) + " and center = false needs " +
                           std::to_string(stft.nFft) + " samples per item, but items have " + std::to_string(length) +
                           "; lengthen `duration` or lower `n_fft`.");
    auto shape = wave.sizes().vec();
    torch::Tensor flat = wave.reshape({-1, length});
    torch::Tensor spec = torch::stft(flat, stft.nFft, stft.hopLength, stft.winLength, window, stft.center, "reflect",
                                     /*normalized=*/false, /*onesided=*/true, /*return_complex=*/true);
    shape.pop_back();
    shape.push_back(spec.size(-2));
    shape.push_back(spec.size(-1));
    spec = spec.reshape(shape);
    if (normalized) spec = spec / window.pow(2.0).sum().sqrt();
    torch::Tensor magnitude = spec.abs();
    return power == 1.0 ? magnitude : magnitude.pow(power);
}

namespace {

double hzToMel(double hz, bool slaney) {
    if (!slaney) return 2595.0 * std::log10(1.0 + hz / 700.0);
    const double fSp = 200.0 / 3, minLogHz = 1000.0, minLogMel = minLogHz / fSp, logStep = std::log(6.4) / 27.0;
    return hz >= minLogHz ? minLogMel + std::log(hz / minLogHz) / logStep : hz / fSp;
}

torch::Tensor melToHz(const torch::Tensor& mels, bool slaney) {
    if (!slaney) return 700.0 * (torch::pow(10.0, mels / 2595.0) - 1.0);
    const double fSp = 200.0 / 3, minLogHz = 1000.0, minLogMel = minLogHz / fSp, logStep = std::log(6.4) / 27.0;
    torch::Tensor linear = fSp * mels;
    torch::Tensor logarithmic = minLogHz * torch::exp(logStep * (mels - minLogMel));
    return torch::where(mels >= minLogMel, logarithmic, linear);
}

}  // namespace

torch::Tensor melFilterbank(int64_t nFreqs, double fMin, double fMax, int64_t nMels, int64_t sampleRate,
                            bool slaneyNorm, bool slaneyScale) {
    using torch::indexing::None;
    using torch::indexing::Slice;
    torch::Tensor freqs = torch::linspace(0, double(sampleRate / 2), nFreqs, torch::kFloat32);
    torch::Tensor mels =
        torch::linspace(hzToMel(fMin, slaneyScale), hzToMel(fMax, slaneyScale), nMels + 2, torch::kFloat32);
    torch::Tensor points = melToHz(mels, slaneyScale);  // the bands' edges and centres, in Hz
    torch::Tensor widths = points.index({Slice(1, None)}) - points.index({Slice(None, -1)});
    torch::Tensor slopes = points.unsqueeze(0) - freqs.unsqueeze(1);  // {nFreqs, nMels + 2}
    torch::Tensor down = (-1.0 * slopes.index({Slice(), Slice(None, -2)})) / widths.index({Slice(None, -1)});
    torch::Tensor up = slopes.index({Slice(), Slice(2, None)}) / widths.index({Slice(1, None)});
    torch::Tensor bank = torch::clamp_min(torch::min(down, up), 0.0);
    if (slaneyNorm)
        bank = bank * (2.0 / (points.index({Slice(2, nMels + 2)}) - points.index({Slice(None, nMels)}))).unsqueeze(0);
    return bank;
}

torch::Tensor dctMatrix(int64_t nMfcc, int64_t nMels, bool ortho) {
    torch::Tensor n = torch::arange(double(nMels), torch::kFloat32);
    torch::Tensor k = torch::arange(double(nMfcc), torch::kFloat32).unsqueeze(1);
    torch::Tensor dct = torch::cos(std::numbers::pi / double(nMels) * (n + 0.5) * k);  // {nMfcc, nMels}
    if (!ortho) {
        dct = dct * 2.0;
    } else {
        dct[0].mul_(1.0 / std::sqrt(2.0));
        dct = dct * std::sqrt(2.0 / double(nMels));
    }
    return dct.t().contiguous();
}

torch::Tensor amplitudeToDb(const torch::Tensor& x, double multiplier, std::optional<double> topDb) {
    torch::Tensor db = multiplier * torch::log10(torch::clamp_min(x, 1e-10));
    if (topDb) db = torch::max(db, db.max() - *topDb);
    return db;
}

// ---- the transforms' makers ------------------------------------------------

namespace {

using AudioMaker = AudioTransform (*)(const Value& call, int64_t sampleRate);
using AudioMakers = stdlib::Implementations<stdlib::Family::Item, AudioMaker>;

StftSettings stftOf(const Value& call) {
    StftSettings s;
    s.nFft = intArg(call, "n_fft");
    s.winLength = argOf(&call, "win_length") ? intArg(call, "win_length") : s.nFft;
    if (s.winLength > s.nFft)
        throw RuntimeError(call.text + ": `win_length` (" + std::to_string(s.winLength) + ") is longer than `n_fft` (" +
                           std::to_string(s.nFft) + "); make it at most n_fft.");
    s.hopLength = argOf(&call, "hop_length") ? intArg(call, "hop_length") : std::max<int64_t>(1, s.winLength / 2);
    s.center = boolArg(call, "center");
    return s;
}

torch::Tensor melBankOf(const Value& call, int64_t nFft, int64_t sampleRate) {
    double fMin = numberArg(call, "f_min");
    double fMax = argOf(&call, "f_max") ? numberArg(call, "f_max") : double(sampleRate / 2);
    if (fMin > fMax)
        throw RuntimeError(call.text + ": `f_min` (" + std::to_string(fMin) + " Hz) is above `f_max` (" +
                           std::to_string(fMax) + " Hz); lower f_min or raise f_max.");
    return melFilterbank(nFft / 2 + 1, fMin, fMax, intArg(call, "n_mels"), sampleRate,
                         stringArg(call, "norm") == "slaney", stringArg(call, "mel_scale") == "slaney");
}

torch::Tensor applyBank(const torch::Tensor& spec, const torch::Tensor& bank) {
    return torch::matmul(spec.transpose(-1, -2), bank).transpose(-1, -2).contiguous();
}

const AudioMakers::Add kSpectrogram{
    "spectrogram", [](const Value& call, int64_t) {
        StftSettings stft = stftOf(call);
        double power = numberArg(call, "power");
        bool normalized = boolArg(call, "normalized");
        return AudioTransform{[=](torch::Tensor x, Rng&, bool) { return spectrogram(x, stft, power, normalized); }};
    }};

const AudioMakers::Add kMelSpectrogram{"mel_spectrogram", [](const Value& call, int64_t sampleRate) {
                                           StftSettings stft = stftOf(call);
                                           double power = numberArg(call, "power");
                                           torch::Tensor bank = melBankOf(call, stft.nFft, sampleRate);
                                           torch::Tensor window = torch::hann_window(stft.winLength, torch::kFloat32);
                                           return AudioTransform{[=](torch::Tensor x, Rng&, bool) {
                                               return applyBank(spectrogram(x, stft, window, power, false), bank);
                                           }};
                                       }};

const AudioMakers::Add kMfcc{"mfcc", [](const Value& call, int64_t sampleRate) {
                                 StftSettings stft = stftOf(call);
                                 torch::Tensor bank = melBankOf(call, stft.nFft, sampleRate);
                                 int64_t nMfcc = intArg(call, "n_mfcc"), nMels = intArg(call, "n_mels");
                                 if (nMfcc > nMels)
                                     throw RuntimeError("mfcc: `n_mfcc` (" + std::to_string(nMfcc) +
                                                        ") is more than `n_mels` (" + std::to_string(nMels) +
                                                        "); keep at most as many coefficients as mel bands.");
                                 torch::Tensor dct = dctMatrix(nMfcc, nMels, stringArg(call, "dct_norm") == "ortho");
                                 bool logMels = boolArg(call, "log_mels");
                                 torch::Tensor window = torch::hann_window(stft.winLength, torch::kFloat32);
                                 return AudioTransform{[=](torch::Tensor x, Rng&, bool) {
                                     torch::Tensor mel = applyBank(spectrogram(x, stft, window, 2.0, false), bank);
                                     mel = logMels ? torch::log(mel + 1e-6) : amplitudeToDb(mel, 10.0, 80.0);
                                     return applyBank(mel, dct);
                                 }};
                             }};

const AudioMakers::Add kAmplitudeToDb{"amplitude_to_db", [](const Value& call, int64_t) {
                                          double multiplier = stringArg(call, "stype") == "power" ? 10.0 : 20.0;
                                          std::optional<double> topDb;
                                          if (argOf(&call, "top_db")) topDb = numberArg(call, "top_db");
                                          return AudioTransform{[=](torch::Tensor x, Rng&, bool) {
                                              if (x.dim() != 3)
                                                  throw RuntimeError(
                                                      "amplitude_to_db works on spectrograms; put it after "
                                                      "`spectrogram` or `mel_spectrogram` in `item`.");
                                              return amplitudeToDb(x, multiplier, topDb);
                                          }};
                                      }};

// SpecAugment (Park et al. 2019) as torchaudio's mask_along_axis: a run of
// floor(u·max) rows or frames from floor(v·(size − u·max)), the same for every
// channel; filled with the item's mean (what 0 is once normalised).
AudioTransform maskAlong(const Value& call, int64_t dim, const char* name) {
    int64_t max = intArg(call, "max"), count = intArg(call, "count");
    double p = call.builtin && call.builtin->param("p") ? numberArg(call, "p") : 1.0;
    std::string what = name;
    return AudioTransform{[=](torch::Tensor x, Rng& rng, bool training) {
        if (x.dim() != 3)
            throw RuntimeError(what +
                               " works on spectrograms; put it after `mel_spectrogram` (or `spectrogram`, "
                               "`mfcc`) in `item`.");
        if (!training) return x;
        const int64_t size = x.size(dim);
        const int64_t limit = p == 1.0 ? max : std::min<int64_t>(max, int64_t(double(size) * p));
        if (limit < 1) return x;
        x = x.clone();
        const float fill = x.mean().item<float>();
        for (int64_t m = 0; m < count; ++m) {
            double width = rng.uniform() * double(limit);
            double from = rng.uniform() * (double(size) - width);
            int64_t start = int64_t(from), length = int64_t(width);
            if (length > 0) x.narrow(dim, start, std::min(length, size - start)).fill_(fill);
        }
        return x;
    }};
}

const AudioMakers::Add kTimeMask{"time_mask",
                                 [](const Value& call, int64_t) { return maskAlong(call, 2, "time_mask"); }};
const AudioMakers::Add kFreqMask{"freq_mask",
                                 [](const Value& call, int64_t) { return maskAlong(call, 1, "freq_mask"); }};

}  // namespace

AudioTransforms::AudioTransforms(const Value* list, int64_t sampleRate) {
    for (const Value* call : calls(list)) {
        const AudioMaker* maker = AudioMakers::find(call->text);
        if (!maker)
            throw RuntimeError("`" + call->text +
                               "` changes images, not sound; in an audio data block's `item` use spectrogram, "
                               "mel_spectrogram, mfcc, amplitude_to_db, time_mask or freq_mask.");
        steps_.push_back((*maker)(*call, sampleRate));
    }
}

torch::Tensor AudioTransforms::apply(torch::Tensor x, Rng& rng, bool training) const {
    for (const auto& step : steps_) x = step.apply(std::move(x), rng, training);
    return x;
}

}  // namespace pipelang::runtime
