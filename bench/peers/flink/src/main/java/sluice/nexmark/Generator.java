package sluice.nexmark;

import java.util.ArrayList;
import java.util.List;

/**
 * A faithful port of src/nexmark/generator.ts (same rules, same order of draws, same
 * tables): event n is a function of (seed, baseTime, rate, ooo) and n. See that file for
 * the rules; `fingerprint` must print what the TypeScript one returns.
 */
public final class Generator {
  public static final int FIRST_ID = 1000;
  static final int EVENTS_PER_BLOCK = 50;
  static final double AUCTION_SPAN_EVENTS = (100.0 * 50) / 3;

  static final String[] FIRST_NAMES = {"Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter"};
  static final String[] LAST_NAMES = {"Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris"};
  static final String[] US_STATES = {"AZ", "CA", "ID", "OR", "WA", "WY"};
  static final String[] US_CITIES = {"Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend", "Redmond", "Seattle", "Kent", "Cheyenne"};
  static final String[] NAMED_CHANNELS = {"Google", "Facebook", "Baidu", "Apple"};
  static final int CHANNELS = 10_000;
  static final int WORD_COUNT = 1024;
  static final int PAD_LENGTH = 8192;
  static final int PAD_WINDOW = 7168;
  static final int TABLE_SEED = 0x5eed1e55;

  static final String[] NAMES;
  static final String[] WORDS = new String[WORD_COUNT];
  static final String PAD;
  static final String[] CHANNEL_NAMES = new String[CHANNELS];
  static final String[] CHANNEL_URLS = new String[CHANNELS];
  static final String[] NAMED_URLS = new String[NAMED_CHANNELS.length];
  static final String[] CARD_GROUPS = new String[10_000];

  static {
    List<String> names = new ArrayList<>();
    for (String f : FIRST_NAMES) for (String l : LAST_NAMES) names.add(f + " " + l);
    NAMES = names.toArray(new String[0]);
    Prng r = new Prng();
    r.seedRaw(TABLE_SEED);
    for (int i = 0; i < WORD_COUNT; i++) {
      int len = 3 + r.nextInt(8);
      StringBuilder w = new StringBuilder();
      for (int j = 0; j < len; j++) w.append((char) (97 + r.nextInt(26)));
      WORDS[i] = w.toString();
    }
    StringBuilder pad = new StringBuilder();
    for (int i = 0; i < PAD_LENGTH; i++) pad.append((char) (97 + r.nextInt(26)));
    PAD = pad.toString();
    for (int k = 0; k < CHANNELS; k++) {
      CHANNEL_NAMES[k] = "channel-" + k;
      CHANNEL_URLS[k] = "https://nexmark.com/" + WORDS[k % WORD_COUNT] + "/item?c=" + k;
    }
    for (int c = 0; c < NAMED_CHANNELS.length; c++) NAMED_URLS[c] = "https://nexmark.com/" + NAMED_CHANNELS[c].toLowerCase() + "/item";
    for (int i = 0; i < 10_000; i++) CARD_GROUPS[i] = String.format("%04d", i);
  }

  public record Person(long id, String name, String emailAddress, String creditCard, String city, String state, long dateTime, String extra) {}

  public record Auction(long id, String itemName, String description, long initialBid, long reserve, long dateTime, long expires, long seller,
      long category, String extra) {}

  public record Bid(long auction, long bidder, long price, String channel, String url, long dateTime, String extra) {}

  final int seed;
  final long baseTime;
  final double rate;
  final long ooo;
  final double twoSpanMs;
  private final Prng rng = new Prng();

  public Generator(int seed, long baseTime, double rate, long ooo) {
    this.seed = seed;
    this.baseTime = baseTime;
    this.rate = rate;
    this.ooo = ooo;
    this.twoSpanMs = (2 * AUCTION_SPAN_EVENTS * 1000) / rate;
  }

  public long timeOf(long n) {
    long g = ooo;
    long t = g > 1 ? (n / g) * g + ((n * 953) % g) : n;
    return baseTime + (long) Math.floor(Math.floor((t * 1e6) / rate) / 1000);
  }

  /** 0 person, 1 auction, 2 bid. */
  public static int kindOf(long n) {
    int r = (int) (n % EVENTS_PER_BLOCK);
    return r == 0 ? 0 : r < 4 ? 1 : 2;
  }

  private String nextExtra(int current, int desired) {
    if (current >= desired) return "";
    int want = desired - current;
    int delta = (int) Math.round(want * 0.2);
    int len = want - delta + rng.nextInt(2 * delta + 1);
    int off = rng.nextInt(PAD_WINDOW);
    return PAD.substring(off, off + len);
  }

  public Person person(long n) {
    rng.seedEvent(seed, n);
    long block = n / EVENTS_PER_BLOCK;
    String name = NAMES[rng.nextInt(NAMES.length)];
    String email = WORDS[rng.nextInt(WORD_COUNT)] + "@" + WORDS[rng.nextInt(WORD_COUNT)] + ".com";
    String card = CARD_GROUPS[rng.nextInt(10_000)] + " " + CARD_GROUPS[rng.nextInt(10_000)] + " " + CARD_GROUPS[rng.nextInt(10_000)] + " "
        + CARD_GROUPS[rng.nextInt(10_000)];
    String city = US_CITIES[rng.nextInt(US_CITIES.length)];
    String state = US_STATES[rng.nextInt(US_STATES.length)];
    int size = 8 + name.length() + email.length() + card.length() + city.length() + state.length() + 8 + 1;
    String extra = nextExtra(size, 200);
    return new Person(FIRST_ID + block, name, email, card, city, state, timeOf(n), extra);
  }

  public Auction auction(long n) {
    rng.seedEvent(seed, n);
    long block = n / EVENTS_PER_BLOCK;
    long id = FIRST_ID + block * 3 + (n % EVENTS_PER_BLOCK) - 1;
    String itemName = WORDS[rng.nextInt(WORD_COUNT)];
    String description = WORDS[rng.nextInt(WORD_COUNT)] + " " + WORDS[rng.nextInt(WORD_COUNT)];
    long initialBid = rng.nextPrice();
    long reserve = initialBid + rng.nextPrice();
    long seller;
    if (rng.nextInt(4) > 0) {
      seller = ((FIRST_ID + block) / 100) * 100;
    } else {
      long people = block + 1;
      long active = Math.min(people, 1000);
      seller = FIRST_ID + people - active + rng.nextInt((int) active + 10);
    }
    long category = 10 + rng.nextInt(5);
    long dateTime = timeOf(n);
    long expires = dateTime + rng.nextLong(twoSpanMs);
    int size = 8 + itemName.length() + description.length() + 8 * 6 + 1;
    String extra = nextExtra(size, 500);
    return new Auction(id, itemName, description, initialBid, reserve, dateTime, expires, seller, category, extra);
  }

  public Bid bid(long n) {
    rng.seedEvent(seed, n);
    long block = n / EVENTS_PER_BLOCK;
    long auction;
    if (rng.nextInt(2) > 0) {
      auction = ((FIRST_ID + block * 3 + 2) / 100) * 100;
    } else {
      long auctions = block * 3 + 3;
      long active = Math.min(auctions, 100);
      auction = FIRST_ID + auctions - active + rng.nextInt((int) active + 10);
    }
    long bidder;
    if (rng.nextInt(4) > 0) {
      bidder = ((FIRST_ID + block) / 100) * 100 + 1;
    } else {
      long people = block + 1;
      long active = Math.min(people, 1000);
      bidder = FIRST_ID + people - active + rng.nextInt((int) active);
    }
    long price = rng.nextPrice();
    String channel;
    String url;
    if (rng.nextInt(2) == 0) {
      int c = rng.nextInt(NAMED_CHANNELS.length);
      channel = NAMED_CHANNELS[c];
      url = NAMED_URLS[c];
    } else {
      int c = rng.nextInt(CHANNELS);
      channel = CHANNEL_NAMES[c];
      url = CHANNEL_URLS[c];
    }
    int size = 8 * 5 + channel.length() + url.length() + 1;
    String extra = nextExtra(size, 100);
    return new Bid(auction, bidder, price, channel, url, timeOf(n), extra);
  }

  private int h;

  private void mix(long x) {
    h = ((h ^ (int) x) * 0x01000193) ^ (int) Math.floor(x / 4294967296.0);
  }

  /** The same fingerprint as src/nexmark/generator.ts `fingerprint`. */
  public long fingerprint(long from, long count) {
    h = 0;
    for (long n = from; n < from + count; n++) {
      int k = kindOf(n);
      if (k == 0) {
        Person e = person(n);
        mix(e.dateTime() - baseTime);
        mix(e.extra().length());
        mix(e.id());
        mix(e.name().length() + e.emailAddress().length() * 7 + e.creditCard().charAt(3) + e.city().length() * 13 + e.state().charAt(1));
      } else if (k == 1) {
        Auction e = auction(n);
        mix(e.dateTime() - baseTime);
        mix(e.extra().length());
        mix(e.id());
        mix(e.seller());
        mix(e.category());
        mix(e.initialBid());
        mix(e.reserve());
        mix(e.expires() - e.dateTime());
        mix(e.itemName().length() + e.description().length() * 7);
      } else {
        Bid e = bid(n);
        mix(e.dateTime() - baseTime);
        mix(e.extra().length());
        mix(e.auction());
        mix(e.bidder());
        mix(e.price());
        mix(e.channel().length() * 31 + e.url().length());
      }
    }
    return h & 0xFFFFFFFFL;
  }
}
