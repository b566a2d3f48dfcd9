// SPDX-License-Identifier: Apache-2.0
// bridle: placeholder until the front ends land.
int main() { return 70; }
