/** IPv4/IPv6 addresses and CIDR blocks for the IpAddress/NotIpAddress operators. */

function parseV4(text: string): bigint | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let n = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    n = (n << 8n) | BigInt(Number(p));
  }
  return n;
}

function parseV6(text: string): bigint | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groups = (s: string) => (s === "" ? [] : s.split(":"));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...tail];
  let n = 0n;
  for (const g of all) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    n = (n << 16n) | BigInt(Number.parseInt(g, 16));
  }
  return n;
}

/** An address as (family bits, value). */
function parseAddress(text: string): { bits: number; value: bigint } | undefined {
  const v4 = parseV4(text);
  if (v4 !== undefined) return { bits: 32, value: v4 };
  const v6 = parseV6(text);
  return v6 === undefined ? undefined : { bits: 128, value: v6 };
}

/** Whether `address` lies in `cidr` (a bare address is a /32 or /128); false for anything unparsable. */
export function cidrContains(cidr: string, address: string): boolean {
  const [net, lenText] = cidr.split("/");
  const block = parseAddress(net ?? "");
  const ip = parseAddress(address);
  if (!block || !ip || block.bits !== ip.bits) return false;
  const len = lenText === undefined ? block.bits : Number(lenText);
  if (!Number.isInteger(len) || len < 0 || len > block.bits) return false;
  const shift = BigInt(block.bits - len);
  return block.value >> shift === ip.value >> shift;
}
