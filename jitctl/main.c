/* placeholder: written in a following change */
int main(void);
