// SPDX-License-Identifier: Apache-2.0
// Escape the control characters in a command's output, so that a log line cannot drive the
// terminal of the agent or of a person reading along (ANSI escapes, C1 controls, CR tricks).
#pragma once

#include <string>
#include <string_view>

namespace bridle::gate {

// One stream's escaper: bytes may arrive in any chunks, a UTF-8 character split between two.
// Kept as they are: \n, \t, printable ASCII and well-formed UTF-8 other than C1 controls.
// Written as \xHH: every other C0 control (ESC, CR, BS, ...), DEL, the C1 controls U+0080 to
// U+009F, and bytes that are not well-formed UTF-8 (a lone 0x9b is CSI to an 8-bit terminal).
// Printable text is never changed, so escaping twice gives what escaping once gave.
class OutputEscaper {
  public:
    void escape(std::string_view bytes, std::string& out);
    void finish(std::string& out);  // the end of the stream: a character cut short is escaped

  private:
    std::string pending_;       // the lead byte and continuation bytes of a character so far
    std::size_t expected_ = 0;  // its whole length in bytes (0: none pending)
};

}  // namespace bridle::gate
