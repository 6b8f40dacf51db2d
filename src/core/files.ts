// File helpers shared by every part of core that persists state.
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';

/** Write `data` to `file` so readers see either the old or the new content, never a mix (temp + fsync + rename). */
export function writeAtomic(file: string, data: string | Buffer): void {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = fs.openSync(tmp, 'w', 0o644);
  try {
    try {
      fs.writeFileSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    // A failed write or rename (the target is a folder, the disk is full) leaves no temp file behind.
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

const FS_REASON: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOENT: 'no such file or folder',
  EISDIR: 'it is a folder, not a file',
  ENOTDIR: 'a file is in the way where a folder is needed',
  EEXIST: 'something else already exists there',
  ENOTEMPTY: 'the folder is not empty',
  EROFS: 'the file system is read-only',
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is exceeded',
  EMFILE: 'too many open files',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'the name is too long',
};

/** The plain-words reason of a file-system error ("permission denied"), or undefined when `e` is not one. */
export function fsReason(e: unknown): string | undefined {
  const code = (e as NodeJS.ErrnoException)?.code;
  return code ? FS_REASON[code] : undefined;
}
