#define DEMO_H 1
