#!/usr/bin/env python3
"""Write a C file that holds a text file as a NUL-terminated char array.

Usage: embed.py INPUT OUTPUT SYMBOL
"""
import sys

def main():
    src, dst, symbol = sys.argv[1:4]
    data = open(src, 'rb').read()
    if b'\0' in data:
        sys.exit(f'{src}: contains a NUL byte')
    lines = [f'/* Generated from {src.split("/")[-1]} by embed.py: do not edit. */',
             f'const char {symbol}[] = {{']
    for i in range(0, len(data), 12):
        lines.append('        ' + ', '.join(f'0x{b:02x}' for b in data[i:i + 12]) + ',')
    lines.append('        0x00')
    lines.append('};')
    open(dst, 'w').write('\n'.join(lines) + '\n')

if __name__ == '__main__':
    main()
