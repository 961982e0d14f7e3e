#pragma once
namespace swatsim {
/// swatsim's version, written into every report and trace it produces.
const char* version();
}
