// What a line typed in the room does: a message to everyone, or a command — /nick, /who, /me,
// /msg, /quit, /help. "//text" sends "/text" as a message. Text arrives already sanitized.

import type { Participant, Room } from './room.js';

export const HELP_LINES = [
  '*** commands:',
  '***   /nick NAME        change your nickname',
  '***   /who              who is here',
  '***   /me ACTION        say what you do (* alice waves)',
  '***   /msg NICK TEXT    a private message to NICK',
  '***   /quit [MESSAGE]   leave',
  '***   /help             this list',
  '*** anything else goes to everyone; //text sends /text',
];

/** Run one line from a named participant. Returns their parting words when they /quit. */
export function runLine(room: Room, p: Participant, text: string): { quit: string } | undefined {
  const nick = p.nick as string;
  if (!text.startsWith('/') || text.startsWith('//')) {
    room.broadcast(`<${nick}> ${text.startsWith('//') ? text.slice(1) : text}`, p);
    return undefined;
  }
  const space = text.indexOf(' ');
  const command = (space < 0 ? text : text.slice(0, space)).toLowerCase();
  const rest = space < 0 ? '' : text.slice(space + 1).trim();
  switch (command) {
    case '/nick': {
      const why = room.checkNick(rest, p);
      if (why) p.tell(`! cannot take that nickname: ${why}`);
      else if (rest !== nick) room.rename(p, rest);
      return undefined;
    }
    case '/who': {
      const nicks = room.nicks;
      p.tell(`*** here (${nicks.length}): ${nicks.join(', ')}`);
      return undefined;
    }
    case '/me':
      if (rest === '') p.tell('! usage: /me ACTION');
      else room.broadcast(`* ${nick} ${rest}`);
      return undefined;
    case '/msg': {
      const gap = rest.indexOf(' ');
      const to = gap < 0 ? rest : rest.slice(0, gap);
      const message = gap < 0 ? '' : rest.slice(gap + 1).trim();
      const target = to === '' ? undefined : room.find(to);
      if (to === '' || message === '') p.tell('! usage: /msg NICK TEXT');
      else if (!target) p.tell(`! no one called ${to} is here (/who lists them)`);
      else {
        target.tell(`*${nick}* ${message}`);
        p.tell(`-> *${target.nick}* ${message}`);
      }
      return undefined;
    }
    case '/quit':
      return { quit: rest };
    case '/help':
      for (const line of HELP_LINES) p.tell(line);
      return undefined;
    default:
      p.tell(`! unknown command ${command}; /help lists them`);
      return undefined;
  }
}
