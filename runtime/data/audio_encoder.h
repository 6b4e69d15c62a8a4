// `pipe predict` on a sound-trained run: the encoder of sound files, from the
// data section and the run's classes.json and stats.json (audio_data.cpp).
#pragma once

#include <nlohmann/json.hpp>

#include <memory>

#include "runtime/data/dataset.h"

namespace pipelang::runtime {

std::unique_ptr<InputEncoder> audioEncoder(const Section& data, const nlohmann::json& classes,
                                           const nlohmann::json& stats);

}  // namespace pipelang::runtime
