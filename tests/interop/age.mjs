// Independent age implementation for interop tests: decrypt or encrypt files.
//   node age.mjs decrypt IDENTITY_FILE IN OUT
//   node age.mjs encrypt RECIPIENT IN OUT
//   node age.mjs keygen-hybrid          (prints identity, then recipient)
import * as age from "age-encryption"
import { readFileSync, writeFileSync } from "node:fs"

const [cmd, a, b, c] = process.argv.slice(2)
if (cmd === "decrypt") {
  const d = new age.Decrypter()
  for (const line of readFileSync(a, "utf8").split("\n")) {
    const s = line.trim()
    if (s && !s.startsWith("#")) d.addIdentity(s)
  }
  writeFileSync(c, await d.decrypt(readFileSync(b)))
} else if (cmd === "encrypt") {
  const e = new age.Encrypter()
  e.addRecipient(a)
  writeFileSync(c, await e.encrypt(readFileSync(b)))
} else if (cmd === "keygen-hybrid") {
  const id = await age.generateHybridIdentity()
  console.log(id)
  console.log(await age.identityToRecipient(id))
} else {
  console.error("usage: age.mjs decrypt|encrypt|keygen-hybrid ...")
  process.exit(2)
}
