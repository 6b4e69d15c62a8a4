// Sound for the `audio` block: files read with libsndfile (WAV, FLAC, Ogg
// Vorbis and the rest it knows), resampled with soxr, made mono or
// kept whole, cut or padded to the block's length; and the item transforms
// that turn a waveform {channels, samples} into a spectrogram {channels,
// bins, frames} as torchaudio 0.13 computes it, through LibTorch's own stft.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "interpreter/pipeline.h"
#include "runtime/data/random.h"

namespace pipelang::runtime {

// What the `audio` block asks of every file.
struct AudioBlock {
    int64_t sampleRate = 16000;
    bool mono = true;
    int64_t samples = 16000;  // the length of every item, duration × sample rate
};
AudioBlock audioBlock(const Value* call);

// A sound file as it is: float32 {channels, frames} in [-1, 1], and its rate.
// Throws RuntimeError naming the file and what to do when it cannot be read,
// is not sound, is cut short (a WAV whose header promises more than the file
// holds), or is empty.
torch::Tensor readSound(const std::filesystem::path& path, int64_t& sampleRate);

// {channels, frames} at rate `from` to rate `to` with soxr's high quality
// (SOXR_HQ: 20-bit precision, its delay compensated); the result has
// ceil(frames × to / from) frames, as torchaudio.functional.resample gives.
torch::Tensor resample(const torch::Tensor& wave, int64_t from, int64_t to);

// A file read for the block: resampled to its rate, averaged to one channel
// when `mono`; its full length (fitDuration cuts it).
torch::Tensor loadSound(const std::filesystem::path& path, const AudioBlock& block);

// Cuts or pads {channels, frames} to `samples`: a longer clip is cut at a
// place drawn from `random` (training), else from its middle; a shorter one
// is padded with silence at its end.
torch::Tensor fitDuration(const torch::Tensor& wave, int64_t samples, Rng* random);

// ---- spectrograms, as torchaudio ---------------------------------------------

struct StftSettings {
    int64_t nFft = 400;
    int64_t winLength = 400;
    int64_t hopLength = 200;
    bool center = true;
};

// |STFT|^power of {..., samples} with a periodic Hann window: {..., n_fft/2+1, frames}.
// `normalized` divides by the window's L2 norm (torchaudio's normalized = True).
torch::Tensor spectrogram(const torch::Tensor& wave, const StftSettings& stft, double power, bool normalized);
// The same with the window made once (a periodic Hann window of win_length).
torch::Tensor spectrogram(const torch::Tensor& wave, const StftSettings& stft, const torch::Tensor& window,
                          double power, bool normalized);
// torchaudio.functional.melscale_fbanks: {nFreqs, nMels}.
torch::Tensor melFilterbank(int64_t nFreqs, double fMin, double fMax, int64_t nMels, int64_t sampleRate,
                            bool slaneyNorm, bool slaneyScale);
// torchaudio.functional.create_dct (DCT-II): {nMels, nMfcc}.
torch::Tensor dctMatrix(int64_t nMfcc, int64_t nMels, bool ortho);
// torchaudio.functional.amplitude_to_DB with amin 1e-10 and ref 1: the floor
// `topDb` below the maximum of the whole tensor (one item).
torch::Tensor amplitudeToDb(const torch::Tensor& x, double multiplier, std::optional<double> topDb);

// One step of an audio data block's `item` list, made from its call and the
// block's sample rate. Random steps draw from the item's generator and act only
// when `training`.
struct AudioTransform {
    std::function<torch::Tensor(torch::Tensor x, Rng& rng, bool training)> apply;
};

class AudioTransforms {
public:
    AudioTransforms() = default;
    // From the `item` field. Throws RuntimeError for a transform that does not work on sound.
    AudioTransforms(const Value* list, int64_t sampleRate);
    torch::Tensor apply(torch::Tensor x, Rng& rng, bool training) const;

private:
    std::vector<AudioTransform> steps_;
};

}  // namespace pipelang::runtime
